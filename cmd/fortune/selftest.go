package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/fortune/selfcheck"
	"github.com/fortune-go/fortune/fortune/storage"
)

// extraSchemes are checked by the storage and faulty-read checks besides every scheme of
// storage.Parse. Only tests set it: a scheme whose reference is corrupted shows that a mismatch
// makes the command fail.
var extraSchemes []storage.Scheme

// runSelftest runs every self-check of package selfcheck on the chosen backend and prints one
// row per check: the bit-exact checks against the plain-Go reference (storage, inject, quantize,
// faulty-read; docs/method.md §3.5), and each network's forward pass and training step against
// the pure-Go backend within tolerances (on the pure-Go backend itself: its default path
// against its native convolution). It fails when any check fails.
func runSelftest(args []string) error {
	fs := flag.NewFlagSet("selftest", flag.ContinueOnError)
	var c common
	c.register(fs)
	only := fs.String("checks", "", "comma-separated checks to run, by name or family (storage, inject, quantize, faulty-read, forward, train-step, forward/lenet5, …; default: all)")
	full := fs.Bool("full", false, "on the go backend, also run the native-convolution training steps that take minutes there (Inception-v3, AlexNet)")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	checks := append(selfcheck.BitExact(extraSchemes...), selfcheck.Networks(*full)...)
	checks, err := selectChecks(checks, stringList(*only))
	if err != nil {
		return err
	}
	b, info, err := c.open()
	if err != nil {
		return err
	}
	label := backendLabel(info)
	start := time.Now()
	fmt.Printf("%-26s %-10s %-6s %s\n", "check", "backend", "result", "detail")
	var failed, skipped int
	for _, ch := range checks {
		t0 := time.Now()
		detail, err := runCheck(ch, b)
		result := "PASS"
		switch {
		case errors.Is(err, selfcheck.ErrSkipped):
			result, detail, skipped = "SKIP", strings.TrimPrefix(err.Error(), selfcheck.ErrSkipped.Error()+": "), skipped+1
		case err != nil:
			result, detail, failed = "FAIL", oneLine(err.Error(), maxDetail), failed+1
		}
		fmt.Printf("%-26s %-10s %-6s %s [%.1fs]\n", ch.Name, label, result, detail, time.Since(t0).Seconds())
	}
	fmt.Printf("%d passed, %d failed, %d skipped in %.0fs on %s\n", len(checks)-failed-skipped, failed, skipped,
		time.Since(start).Seconds(), info.Config)
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed on %s", failed, len(checks)-skipped, info.Config)
	}
	return nil
}

// runCheck runs one check, turning a panic of the graph library into a failure.
func runCheck(ch selfcheck.Check, b compute.Backend) (detail string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return ch.Run(b)
}

// selectChecks keeps, in their order, the checks that filters name: a check's name, or its
// family (the part before "/"); all of them when filters is empty.
func selectChecks(checks []selfcheck.Check, filters []string) ([]selfcheck.Check, error) {
	if len(filters) == 0 {
		return checks, nil
	}
	matches := func(name, f string) bool {
		family, _, _ := strings.Cut(name, "/")
		return name == f || family == f
	}
	var names []string
	for _, ch := range checks {
		names = append(names, ch.Name)
	}
	for _, f := range filters {
		if !slices.ContainsFunc(names, func(n string) bool { return matches(n, f) }) {
			return nil, fmt.Errorf("--checks: no check %q (checks: %s)", f, strings.Join(names, ", "))
		}
	}
	var out []selfcheck.Check
	for _, ch := range checks {
		if slices.ContainsFunc(filters, func(f string) bool { return matches(ch.Name, f) }) {
			out = append(out, ch)
		}
	}
	return out, nil
}

// backendLabel is the short name of a backend for the table: "go", "xla:cuda", "xla:cpu", or
// "xla:" and a plugin file's name.
func backendLabel(info backend.Info) string {
	name, rest, _ := strings.Cut(info.Config, ":")
	if info.IsGo() || rest == "" {
		return name
	}
	plugin, _, _ := strings.Cut(rest, ",")
	return name + ":" + filepath.Base(plugin)
}

// maxDetail is the most characters of a failure's message the table prints: errors from GoMLX
// may quote whole tensors, pages long.
const maxDetail = 400

// oneLine returns s on one line (runs of white space as one space), shortened to about max
// characters by cutting its middle.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	head := max * 2 / 3
	return string(r[:head]) + " … " + string(r[len(r)-(max-head):])
}
