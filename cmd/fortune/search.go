package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/fortune-go/fortune/fortune/campaign"
	"github.com/fortune-go/fortune/fortune/search"
)

func runSearch(args []string) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	var c common
	var o campaignOptions
	c.register(fs)
	o.register(fs)
	a := fs.Float64("a", 85, "accuracy threshold: golden accuracy must exceed a (%, 0 ≤ a < 100)")
	bThr := fs.Float64("b", 1, "reliability threshold: the worst mean accuracy drop over the BERs must be below b (pp, 0 < b ≤ 100)")
	m := fs.Int("m", 3, "smallest bit width")
	n := fs.Int("n", 8, "largest bit width")
	mode := fs.String("mode", "exhaustive", "exhaustive (no assumption) or binary (assumes feasibility grows with the width)")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	cfg := search.Config{M: *m, N: *n, A: *a, B: *bThr}
	var err error
	if cfg.Mode, err = search.ParseMode(*mode); err != nil {
		return fmt.Errorf("--mode: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		var ce *search.ConfigError
		if errors.As(err, &ce) {
			return fmt.Errorf("--%s: %w", strings.Join(ce.Fields, "/--"), err)
		}
		return err
	}
	o.variants = "8-bit" // Replaced per width; must validate.
	setup, s, err := o.prepare(&c)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir := filepath.Join(o.out, "search-"+setup.Model.Name())
	res, err := search.Search(cfg, campaign.Feasibility(ctx, setup, s, dir, cfg.A))
	if err != nil {
		return err
	}
	fmt.Printf("%-6s %-7s %9s %10s %9s %12s  %s\n", "width", "variant", "golden%", "worst-pp", "at BER", "memory-bits", "verdict")
	for _, pt := range res.Points {
		fmt.Printf("%-6d %-7s %9.2f %10.2f %9.0e %12d  %s\n", pt.Width, pt.Variant, pt.Golden, pt.WorstDrop, pt.WorstBER, pt.MemoryBits, pt.Reason)
	}
	if ch, ok := res.Chosen(); ok {
		fmt.Printf("chosen: width %d (%s)\n", ch.Width, ch.Variant)
	} else {
		fmt.Printf("no width in [%d, %d] meets a=%g%% and b=%gpp\n", cfg.M, cfg.N, cfg.A, cfg.B)
	}
	return nil
}
