package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/fortune-go/fortune/data"
	"github.com/fortune-go/fortune/fortune/campaign"
	"github.com/fortune-go/fortune/fortune/inject"
)

// campaignOptions are the campaign flags.
type campaignOptions struct {
	model, weights, variants, bers string
	trials, minTrials, batch       int
	halfWidth                      float64
	seed                           uint64
	placement, sign, split         string
	limit                          int
	legacy                         bool
	perTensor                      bool
	out                            string
}

func (o *campaignOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.model, "model", "", "network (e.g. lenet5, alexnet, vgg11, resnet18, inception_v3)")
	fs.StringVar(&o.weights, "weights", "", "FP32 weights: a checkpoint of 'fortune train', .safetensors, or a PyTorch .pt state dict")
	fs.StringVar(&o.variants, "variants", strings.Join(campaign.PaperVariants, ","), "storage variants: 8-bit, P-w (w=2…6), U-w (w=2…8), and the classic codes PAR-w (w=2…7), SEC-w, SECDED-w (w=2…4), TMR-2 (docs/method.md §12)")
	fs.StringVar(&o.bers, "bers", "1e-5,3e-5,1e-4,3e-4", "bit error rates, each in (0, 1]")
	fs.IntVar(&o.trials, "trials", 20, "trials per variant and BER (the maximum, with --half-width); "+
		"the paper's Leveugle et al. sample size (95% confidence, 1% margin) is not used to set it: it counts single-fault injections, "+
		"not trials of F faults each, so fortune/stats computes it for information only (docs/method.md §8.3); use --half-width for a stated precision")
	fs.Float64Var(&o.halfWidth, "half-width", 0, "stop a (variant, BER) once its 95% CI half-width is at most this (pp); 0: always run --trials")
	fs.IntVar(&o.minTrials, "min-trials", 5, "minimum trials before --half-width may stop (at least 2, below --trials)")
	fs.Uint64Var(&o.seed, "seed", 1, "campaign seed")
	fs.StringVar(&o.placement, "placement", "", "fault placement: distinct (default), replacement, legacy (authors': layer uniform) or bernoulli")
	fs.StringVar(&o.sign, "sign", "", "8-bit sign-bit fault: xor (default) or negate (authors')")
	fs.StringVar(&o.split, "split", "", "evaluation images: test (default) or legacy (authors' subsets)")
	fs.IntVar(&o.limit, "limit", 0, "evaluate on the first N images of the split only (0: all)")
	fs.IntVar(&o.batch, "batch", 100, "evaluation batch size")
	fs.BoolVar(&o.legacy, "legacy", false, "the authors' protocol: legacy placement, sign negation, layer lists, [0,255] clamp, splits and AlexNet dropout")
	fs.BoolVar(&o.perTensor, "per-tensor", false, "quantize per tensor (the paper's equations) instead of per output channel")
	fs.StringVar(&o.out, "out", "runs/campaign", "output folder; results go to OUT/MODEL.jsonl and a run resumes there")
}

// settings turns the flags into campaign settings (validated by campaign.Settings.Validate).
func (o *campaignOptions) settings() (campaign.Settings, data.Split, error) {
	bers, err := floatList("--bers", o.bers)
	if err != nil {
		return campaign.Settings{}, 0, err
	}
	s := campaign.Settings{Model: o.model, Weights: o.weights, Variants: stringList(o.variants), BERs: bers,
		Trials: o.trials, HalfWidth: o.halfWidth, MinTrials: o.minTrials, Seed: o.seed,
		BatchSize: o.batch, PerTensor: o.perTensor} // Placement: the zero value, inject.Distinct.
	split := data.Test
	if o.legacy {
		s, split = s.WithLegacyProtocol(), data.Legacy
	}
	if o.placement != "" {
		if s.Placement, err = inject.ParsePlacement(o.placement); err != nil {
			return s, 0, fmt.Errorf("--placement: %w", err)
		}
	}
	if o.sign != "" {
		sign, err := inject.ParseSignFault(o.sign)
		if err != nil {
			return s, 0, fmt.Errorf("--sign: %w", err)
		}
		s.SignNegate = sign == inject.SignNegate
	}
	if o.split != "" {
		if split, err = parseSplit(o.split); err != nil {
			return s, 0, err
		}
	}
	if o.limit < 0 {
		return s, 0, fmt.Errorf("--limit: %d, want ≥ 0", o.limit)
	}
	s.Eval = split.String()
	if o.limit > 0 {
		s.Eval += fmt.Sprintf(", first %d images", o.limit)
	}
	if err := s.Validate(); err != nil {
		return s, split, err
	}
	// The early stop needs two trials for a confidence interval and is checked before each
	// trial after the first min-trials: unless 2 ≤ min-trials < trials, --half-width would
	// silently never stop anything.
	if s.HalfWidth > 0 && (o.minTrials < 2 || o.minTrials >= s.Trials) {
		return s, split, fmt.Errorf("--min-trials: %d with --half-width %g and --trials %d, want 2 ≤ min-trials < trials, or --half-width never stops early",
			o.minTrials, s.HalfWidth, s.Trials)
	}
	return s, split, nil
}

func runCampaign(args []string) error {
	fs := flag.NewFlagSet("campaign", flag.ContinueOnError)
	var c common
	var o campaignOptions
	c.register(fs)
	o.register(fs)
	if err := parse(fs, args, false); err != nil {
		return err
	}
	setup, s, err := o.prepare(&c)
	if err != nil {
		return err
	}
	path, err := runOneCampaign(setup, s, o.out)
	if err != nil {
		return err
	}
	fmt.Printf("results: %s\n", path)
	return nil
}

// prepare validates the flags and loads what a campaign runs on: model, weights, backend and
// evaluation images.
func (o *campaignOptions) prepare(c *common) (campaign.Setup, campaign.Settings, error) {
	s, split, err := o.settings()
	if err != nil {
		return campaign.Setup{}, s, err
	}
	m, err := newModel(o.model)
	if err != nil {
		return campaign.Setup{}, s, err
	}
	p, err := loadWeights(m, o.weights)
	if err != nil {
		return campaign.Setup{}, s, err
	}
	if s.WeightsFile, err = campaign.IdentifyWeights(o.weights); err != nil {
		return campaign.Setup{}, s, err
	}
	b, info, err := c.open()
	if err != nil {
		return campaign.Setup{}, s, err
	}
	ds, err := c.dataset(m, split, o.limit)
	if err != nil {
		return campaign.Setup{}, s, err
	}
	return campaign.Setup{Backend: b, Info: info, Model: m, Params: p, Eval: ds, Progress: c.progress(), Version: version}, s, nil
}

// runOneCampaign runs (or resumes) the campaign into OUT/MODEL.jsonl and returns that path.
func runOneCampaign(setup campaign.Setup, s campaign.Settings, out string) (string, error) {
	if err := mkdir("--out", out); err != nil {
		return "", err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	name := setup.Model.Name()
	path := filepath.Join(out, name+".jsonl")
	fmt.Fprintf(os.Stderr, "campaign %s: %d variants × %d BERs × %d trials on %d images (%s); results in %s\n",
		name, len(s.Variants), len(s.BERs), s.Trials, setup.Eval.Len(), s.Eval, path)
	if s.WeightsFile != nil {
		fmt.Fprintf(os.Stderr, "weights %s: %s\n", s.Weights, s.WeightsFile)
	}
	if _, err := campaign.Run(ctx, setup, s, path); err != nil {
		return path, fmt.Errorf("campaign %s (finished trials are kept in %s; run again to resume): %w", name, path, err)
	}
	return path, nil
}
