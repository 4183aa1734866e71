package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fortune-go/fortune/fortune/atomicfile"
	"github.com/fortune-go/fortune/fortune/buildinfo"
	"github.com/fortune-go/fortune/fortune/campaign"
	"github.com/fortune-go/fortune/fortune/metrics"
	"github.com/fortune-go/fortune/fortune/report"
)

// version describes the running binary (module version, VCS revision and whether the tree had
// uncommitted changes, Go version; see buildinfo.Build); it is recorded in every results file
// and report and printed by `fortune version`.
var version = buildinfo.Current().String()

func runReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	out := fs.String("out", "runs/report", "output folder for tables and figures")
	c := fs.Float64("pdrop-c", metrics.DefaultC, "P_drop coefficient c = (T/t)·P_single (Eq. 6)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: fortune report [--out DIR] RESULTS.jsonl …\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, true); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("no results files given (e.g. runs/campaign/*.jsonl)")
	}
	files, err := writeReport(fs.Args(), *out, metrics.PDropModel{C: *c})
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Println(f)
	}
	return nil
}

// writeReport reads results files and writes Table I and II (CSV, Markdown), the comparison
// with the paper, Figures 5-7 and, when the variants store at least two different numbers of
// bits per weight, the Pareto figure (SVG, PNG) to out. It returns the files written.
func writeReport(results []string, out string, pm metrics.PDropModel) ([]string, error) {
	if !(pm.C > 0) {
		return nil, fmt.Errorf("--pdrop-c: %g, want > 0", pm.C)
	}
	var rows []report.Row
	prov := report.Provenance{Title: "FORTUNE reproduction", Version: version, Date: time.Now().UTC(),
		Seeds: map[string]uint64{}, Settings: map[string]string{}}
	var backends, devices []string
	models := map[string]int{}
	files := make([][]campaign.Record, len(results))
	for i, path := range results {
		recs, err := campaign.ReadFile(path)
		if err == nil && (len(recs) == 0 || recs[0].Kind != "header" || recs[0].Settings == nil) {
			err = fmt.Errorf("%s: not a results file (no header line)", path)
		}
		if err != nil {
			return nil, err
		}
		files[i] = recs
		models[recs[0].Settings.Model]++
	}
	for i, path := range results {
		recs := files[i]
		h := recs[0]
		if h.Provenance != nil {
			be := h.Provenance.Backend
			if h.Provenance.TF32 != "" || h.Provenance.Deterministic != "" { // CUDA only.
				be += fmt.Sprintf(" (TF32 %s, deterministic ops %s)", h.Provenance.TF32, h.Provenance.Deterministic)
			}
			if !slices.Contains(backends, be) {
				backends = append(backends, be)
			}
			if !slices.Contains(devices, h.Provenance.Device) {
				devices = append(devices, h.Provenance.Device)
			}
		}
		s := h.Settings
		// Runs of one model with different settings stay apart: each is labelled by its folder.
		label := s.Model
		if models[s.Model] > 1 {
			label = s.Model + " (" + filepath.Base(filepath.Dir(path)) + ")"
			for i := range recs {
				recs[i].Model = label
			}
		}
		prov.Seeds[label] = s.Seed
		code := strings.Join(campaign.Versions(recs), "; then ")
		if code == "" {
			code = "unknown (results file without provenance)"
		}
		prov.Settings[label] = fmt.Sprintf("weights=%s (%s) eval=%s placement=%s sign_negate=%t legacy_layers=%t legacy_clamp=%t per_tensor=%t dropout=%t trials=%d half_width=%g results_code=%s",
			s.Weights, s.WeightsFile, s.Eval, s.Placement, s.SignNegate, s.LegacyLayers, s.LegacyClamp, s.PerTensor, s.LegacyDropout, s.Trials, s.HalfWidth, code)
		r, err := report.CampaignRows(recs, pm)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rows = append(rows, r...)
	}
	prov.Backend, prov.Device = strings.Join(backends, "; "), strings.Join(devices, "; ")
	if len(rows) == 0 {
		return nil, fmt.Errorf("no finished variant in %s", strings.Join(results, ", "))
	}
	if err := mkdir("--out", out); err != nil {
		return nil, err
	}
	var written []string
	write := func(name string, data []byte, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		p := filepath.Join(out, name)
		if err := atomicfile.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		written = append(written, p)
		return nil
	}
	t1c, err := report.TableICSV(prov, rows)
	if err := write("table1.csv", t1c, err); err != nil {
		return nil, err
	}
	t1m, err := report.TableIMarkdown(prov, rows)
	if err := write("table1.md", t1m, err); err != nil {
		return nil, err
	}
	t2c, err := report.TableIICSV(prov, rows)
	if err := write("table2.csv", t2c, err); err != nil {
		return nil, err
	}
	t2m, err := report.TableIIMarkdown(prov, rows, report.TableIIOptions{PDrop: metrics.BERMatched, ShowCI: true})
	if err := write("table2.md", t2m, err); err != nil {
		return nil, err
	}
	cmp, err := report.Compare(rows, metrics.BERMatched)
	if err != nil {
		return nil, err
	}
	cc, err := report.ComparisonCSV(prov, cmp)
	if err := write("comparison.csv", cc, err); err != nil {
		return nil, err
	}
	cm, err := report.ComparisonMarkdown(prov, cmp)
	if err := write("comparison.md", cm, err); err != nil {
		return nil, err
	}
	opts := report.FigureOptions{Provenance: &prov}
	figures := []func([]report.Row, report.FigureOptions) (report.Figure, error){report.Figure5, report.Figure6, report.Figure7}
	// The Pareto figure (accuracy under faults against stored bits per weight) needs two memories.
	if len(report.ParetoWidths(rows)) >= 2 {
		figures = append(figures, report.FigurePareto)
	}
	for _, fig := range figures {
		f, err := fig(rows, opts)
		if errors.Is(err, report.ErrNothingToPlot) {
			// The tables are written; one empty figure must not lose them or stop a reproduce.
			fmt.Fprintf(os.Stderr, "report %s: %v: figure not written\n", out, err)
			continue
		}
		if err != nil {
			return nil, err
		}
		svg, png, err := f.Save(out)
		if err != nil {
			return nil, err
		}
		written = append(written, svg, png)
	}
	return written, nil
}

// pdropModel is the default P_drop model (c = 1.33e-15, as backed out of Table II).
func pdropModel() metrics.PDropModel { return metrics.PDropModel{C: metrics.DefaultC} }
