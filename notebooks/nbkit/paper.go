package nbkit

// Helpers of notebook 07: find the committed campaigns of the paper's networks, and show them
// beside the paper's tables. The numbers come from fortune/campaign (the records) and
// fortune/report (records → rows, the paper's tables, the comparison, the figures); here they
// are only laid out.

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/fortune-go/fortune/fortune/campaign"
	"github.com/fortune-go/fortune/fortune/metrics"
	"github.com/fortune-go/fortune/fortune/report"
	"github.com/fortune-go/fortune/fortune/stats"
)

// PaperResultsGlob is where PaperRuns looks, relative to the module root: folders
// results/*-paper*/ holding PROTOCOL/NETWORK.jsonl (the layout `fortune reproduce` writes).
const PaperResultsGlob = "results/*-paper*/*/*.jsonl"

// PaperRun is one committed campaign: a network under one protocol.
type PaperRun struct {
	// Folder is the results folder, relative to the module root (results/2026-12-04-cpu-paper).
	Folder string
	// Protocol is the subfolder: "corrected" or "legacy" (docs/method.md §6.2).
	Protocol string
	// Network is the model of the file's header ("vgg11").
	Network string
	// Path is the results file, relative to the module root.
	Path string
	// Settings and Provenance are the file's header.
	Settings   campaign.Settings
	Provenance *campaign.Provenance
	// Records are every record of the file, with the model relabelled Label().
	Records []campaign.Record
	// Rows are report.CampaignRows of the records (P_drop with c = metrics.DefaultC), labelled Label().
	Rows []report.Row
}

// Label names the run in tables and figure panels: "vgg11 (corrected)".
func (r PaperRun) Label() string { return r.Network + " (" + r.Protocol + ")" }

// PaperNetwork is the paper's name of the run's network ("VGG11"), see report.NormalizeModel.
func (r PaperRun) PaperNetwork() string { return report.NormalizeModel(r.Network) }

// Row returns the run's row of a variant ("8-bit", "P-3", "U-3").
func (r PaperRun) Row(variant string) (report.Row, bool) {
	for _, row := range r.Rows {
		if row.Variant == variant {
			return row, true
		}
	}
	return report.Row{}, false
}

// ModuleRoot returns the folder holding the module's go.mod, found upwards from the notebook's
// folder ($GONB_DIR, else the working directory).
func ModuleRoot() string {
	dir := os.Getenv("GONB_DIR")
	if dir == "" {
		dir = "."
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		panic(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			panic("no go.mod above " + dir)
		}
	}
}

// protocolOrder sorts protocols: corrected, legacy, then others by name.
func protocolOrder(p string) string {
	switch p {
	case "corrected":
		return "0"
	case "legacy":
		return "1"
	}
	return "2" + p
}

// networkOrder sorts networks in the paper's column order, then others by name.
func networkOrder(n string) string {
	if i := slices.Index(report.PaperModels, report.NormalizeModel(n)); i >= 0 {
		return strconv.Itoa(i)
	}
	return "9" + n
}

// PaperRuns reads every results file under root matching PaperResultsGlob, ordered by network
// (the paper's order) and protocol (corrected, legacy, others). Where a network and protocol
// appear in several folders, the last folder in name order (the latest date) is used and the
// others' files are returned in superseded.
func PaperRuns(root string) (runs []PaperRun, superseded []string, err error) {
	paths, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(PaperResultsGlob)))
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(paths)
	latest := map[string]int{}
	for _, p := range paths {
		recs, err := campaign.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		rel, _ := filepath.Rel(root, p)
		if len(recs) == 0 || recs[0].Kind != "header" || recs[0].Settings == nil {
			return nil, nil, fmt.Errorf("%s: not a results file (no header line)", rel)
		}
		r := PaperRun{Folder: filepath.ToSlash(filepath.Dir(filepath.Dir(rel))), Protocol: filepath.Base(filepath.Dir(p)),
			Network: recs[0].Settings.Model, Path: filepath.ToSlash(rel), Settings: *recs[0].Settings, Provenance: recs[0].Provenance}
		for i := range recs {
			if recs[i].Model != "" {
				recs[i].Model = r.Label()
			}
		}
		r.Records = recs
		if r.Rows, err = report.CampaignRows(recs, metrics.PDropModel{C: metrics.DefaultC}); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", rel, err)
		}
		if i, ok := latest[r.Label()]; ok {
			superseded = append(superseded, runs[i].Path)
			runs[i] = r
			continue
		}
		latest[r.Label()] = len(runs)
		runs = append(runs, r)
	}
	slices.SortStableFunc(runs, func(a, b PaperRun) int {
		return strings.Compare(networkOrder(a.Network)+"\x00"+protocolOrder(a.Protocol), networkOrder(b.Network)+"\x00"+protocolOrder(b.Protocol))
	})
	return runs, superseded, nil
}

// Networks returns the runs' networks in order, and Protocols their protocols.
func Networks(runs []PaperRun) []string {
	var out []string
	for _, r := range runs {
		if !slices.Contains(out, r.Network) {
			out = append(out, r.Network)
		}
	}
	return out
}

// Protocols returns the runs' protocols in order (corrected, legacy, others).
func Protocols(runs []PaperRun) []string {
	var out []string
	for _, r := range runs {
		if !slices.Contains(out, r.Protocol) {
			out = append(out, r.Protocol)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(protocolOrder(a), protocolOrder(b)) })
	return out
}

// Rows returns the rows of every run, in order: the input of the report figures, which draw one
// panel per run (two per line: a network's corrected and legacy side by side).
func Rows(runs []PaperRun) []report.Row {
	var out []report.Row
	for _, r := range runs {
		out = append(out, r.Rows...)
	}
	return out
}

// find returns the run of a network (paper spelling or ours) and protocol.
func find(runs []PaperRun, network, protocol string) (PaperRun, bool) {
	for _, r := range runs {
		if report.NormalizeModel(r.Network) == report.NormalizeModel(network) && r.Protocol == protocol {
			return r, true
		}
	}
	return PaperRun{}, false
}

// RunsMarkdown describes the runs: what was evaluated, how often, under which fault model, by
// which code, with a link to each folder's README (relative to the notebooks folder).
func RunsMarkdown(runs []PaperRun) string {
	var tab [][]string
	for _, r := range runs {
		s := r.Settings
		minT, maxT := math.MaxInt, 0
		for _, row := range r.Rows {
			for _, b := range row.PerBER {
				minT, maxT = min(minT, b.Trials), max(maxT, b.Trials)
			}
		}
		trials := strconv.Itoa(maxT)
		if minT != maxT {
			trials = fmt.Sprintf("%d–%d", minT, maxT)
		}
		fp32 := "–"
		for _, rec := range r.Records {
			if rec.Kind == "fp32" && rec.Total > 0 {
				fp32 = fmt.Sprintf("%.2f %%", rec.Accuracy())
			}
		}
		var bers []string
		for _, b := range s.BERs {
			bers = append(bers, report.PowerLabel(b))
		}
		fault := "placement " + s.Placement.String()
		if s.SignNegate {
			fault += ", sign bit negated"
		}
		if s.LegacyLayers {
			fault += ", authors' layers"
		}
		if s.LegacyClamp {
			fault += ", [0, 255] clamp"
		}
		if s.PerTensor {
			fault += ", per tensor"
		}
		if s.LegacyDropout {
			fault += ", dropout on"
		}
		code, backend, started := "–", "–", "–"
		if p := r.Provenance; p != nil {
			backend, started = p.Backend, p.Started
			if p.Build != nil && p.Build.Revision != "" {
				code = p.Build.Revision[:min(7, len(p.Build.Revision))]
				if p.Build.Modified {
					code += " (modified)"
				}
			}
		}
		tab = append(tab, []string{r.Network, r.Protocol, fmt.Sprintf("[%s](../%s/README.md)", r.Folder, r.Folder),
			weightsCell(s.WeightsFile), s.Eval, fp32, fmt.Sprintf("%d × %d × %s", len(s.Variants), len(s.BERs), trials),
			strings.Join(bers, ", "), fault, code, backend, started})
	}
	return Table([]string{"network", "protocol", "folder", "weights", "evaluated on", "FP32 accuracy", "variants × BERs × trials",
		"BERs", "fault model", "code", "backend", "started"}, tab)
}

// weightsCell describes a run's weights file: its hash's first 8 digits and the training it
// records ("`13e45807…`, fortune train: 210 of 210 planned steps …"); results written before
// files recorded them point to their folder's README, which gives both.
func weightsCell(w *campaign.WeightsFile) string {
	if w == nil {
		return "in the folder's README"
	}
	cell := fmt.Sprintf("`%s…`", w.SHA256[:min(8, len(w.SHA256))])
	if w.Training != "" {
		cell += ", " + w.Training
	}
	return cell
}

// mark is ✓ when the paper's value lies in our interval, ✗ when not, nothing when unknown.
func mark(inCI string) string {
	switch inCI {
	case "yes":
		return " ✓"
	case "no":
		return " ✗"
	}
	return ""
}

// paperNum writes one of the paper's numbers with the two decimals its tables print.
func paperNum(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// num writes one of our numbers with 3 significant digits, powers of ten for the very small
// or large (report.FormatPowerNumber).
func num(x float64) string { return report.FormatPowerNumber(x) }

// interval writes a value with its interval: "61.9 [59.7, 64.1]".
func interval(x, lo, hi float64) string {
	s := num(x)
	if !math.IsNaN(lo) && !math.IsNaN(hi) {
		s += " [" + num(lo) + ", " + num(hi) + "]"
	}
	return s
}

// tableIWidths are the rows of Table I and the variants whose golden accuracy fills them
// (unprotected first, as report.TableIMarkdown prefers).
var tableIWidths = []struct {
	typ      string
	width    int
	variants []string
}{{"8-bit", 8, []string{"8-bit"}}, {"5-bit", 5, []string{"U-5", "P-5"}}, {"4-bit", 4, []string{"U-4", "P-4"}}, {"3-bit", 3, []string{"U-3", "P-3"}}}

// TableIMarkdown sets the runs' golden accuracies beside the paper's Table I: per network and
// width the paper's value, then for each protocol ours with its 95 % Wilson interval over the
// evaluated images (stats.Wilson) and ✓/✗ for the paper's value inside/outside it.
func TableIMarkdown(runs []PaperRun) string {
	t1 := Must(report.PaperTableI())
	protocols := Protocols(runs)
	hdr := []string{"network", "type", "paper"}
	for _, p := range protocols {
		hdr = append(hdr, p)
	}
	var tab [][]string
	for _, n := range Networks(runs) {
		pn := report.NormalizeModel(n)
		for _, w := range tableIWidths {
			paper := math.NaN()
			for _, t := range t1 {
				if t.Width == w.width {
					if a, ok := t.Accuracy[pn]; ok {
						paper = a
					}
				}
			}
			rec := []string{n, w.typ, paperNum(paper)}
			for _, p := range protocols {
				cell := "–"
				if r, ok := find(runs, n, p); ok {
					for _, v := range slices.Backward(w.variants) {
						for _, g := range r.Records {
							if g.Kind == "golden" && g.Variant == v && g.Total > 0 {
								lo, hi := Must2(stats.Wilson(g.Correct, g.Total, stats.DefaultConfidence))
								cell = fmt.Sprintf("%.2f [%.2f, %.2f]", g.Accuracy(), 100*lo, 100*hi)
								if !math.IsNaN(paper) {
									cell += mark(map[bool]string{true: "yes", false: "no"}[paper >= 100*lo && paper <= 100*hi])
								}
							}
						}
					}
				}
				rec = append(rec, cell)
			}
			tab = append(tab, rec)
		}
	}
	return Table(hdr, tab)
}

// comparisons returns report.Compare of a run's rows (P_drop in the paper's table definition)
// by quantity, variant and BER label.
func comparisons(r PaperRun) map[string]report.Comparison {
	out := map[string]report.Comparison{}
	for _, c := range Must(report.Compare(r.Rows, metrics.LegacyTable)) {
		out[c.Quantity+"|"+c.Variant+"|"+report.BERLabel(c.BER)] = c
	}
	return out
}

// paperVariants are the variants of the paper's Table II rows, in its order.
var paperVariants = []string{"8-bit", "P-5", "P-4", "P-3"}

// TableIIMarkdown sets the runs' vulnerabilities beside the paper's Table II: per network and
// variant of the table, a line with the paper's values and one per protocol with ours at each
// BER, its 95 % interval and ✓/✗ for the paper's value inside/outside it (report.Compare).
func TableIIMarkdown(runs []PaperRun) string {
	hdr := []string{"network", "type", "values"}
	for _, b := range report.PaperBERs {
		hdr = append(hdr, "BER "+report.PowerLabel(b))
	}
	t2 := Must(report.PaperTableII())
	var tab [][]string
	for _, n := range Networks(runs) {
		var paper *report.TableIIRow
		for _, p := range paperVariants {
			for _, pr := range t2 {
				if report.NormalizeModel(pr.Model) == report.NormalizeModel(n) && pr.Variant == p {
					paper = &pr
				}
			}
			line := []string{n, report.PaperType(p), "paper"}
			for k := range report.PaperBERs {
				if paper != nil && k < len(paper.Vulnerability) {
					line = append(line, paperNum(paper.Vulnerability[k]))
				} else {
					line = append(line, "–")
				}
			}
			tab = append(tab, line)
			for _, proto := range Protocols(runs) {
				r, ok := find(runs, n, proto)
				if !ok {
					continue
				}
				cmp := comparisons(r)
				row, _ := r.Row(p)
				line := []string{"", "", "ours, " + proto}
				for _, b := range report.PaperBERs {
					s, ok := row.At(b)
					if !ok {
						line = append(line, "–")
						continue
					}
					line = append(line, interval(s.VulMean, s.CILow, s.CIHigh)+mark(cmp["vulnerability_pp|"+p+"|"+report.BERLabel(b)].PaperInCI))
				}
				tab = append(tab, line)
			}
			paper = nil
		}
	}
	return Table(hdr, tab)
}

// TableIIOthersMarkdown sets the rest of Table II beside the paper's: memory utilization, execution
// time (% of 8-bit) and P_drop at BER 3e-4 in the paper's table definition (its other BER columns
// are this value × BER / 3e-4, docs/method.md §7.4), per network, variant and protocol.
func TableIIOthersMarkdown(runs []PaperRun) string {
	ber := report.BERLabel(metrics.LegacyBER)
	protocols := Protocols(runs)
	hdr := []string{"network", "type", "memory (bits): paper", "ours"}
	for _, p := range protocols {
		hdr = append(hdr, "time %: "+p)
	}
	hdr = append(hdr, "time %: paper", "P_drop "+report.PowerLabel(metrics.LegacyBER)+": paper")
	for _, p := range protocols {
		hdr = append(hdr, p)
	}
	var tab [][]string
	for _, n := range Networks(runs) {
		for _, v := range paperVariants {
			var mem report.Comparison
			times, pdrops := make([]string, len(protocols)), make([]string, len(protocols))
			paperTime, paperPD := math.NaN(), math.NaN()
			for i, p := range protocols {
				times[i], pdrops[i] = "–", "–"
				r, ok := find(runs, n, p)
				if !ok {
					continue
				}
				cmp := comparisons(r)
				if c, ok := cmp["memory_bits|"+v+"|"+report.BERLabel(0)]; ok && (mem.Quantity == "" || math.IsNaN(mem.Ours)) {
					mem = c
				}
				if c, ok := cmp["exec_time_pct|"+v+"|"+report.BERLabel(0)]; ok {
					times[i], paperTime = num(c.Ours), c.Paper
				}
				if c, ok := cmp["pdrop_legacy|"+v+"|"+ber]; ok {
					pdrops[i], paperPD = num(c.Ours), c.Paper
				}
			}
			memOurs := "–"
			if mem.Quantity != "" && !math.IsNaN(mem.Ours) {
				memOurs = strconv.FormatFloat(mem.Ours, 'f', 0, 64)
				if mem.Ours == mem.Paper {
					memOurs += " (=)"
				}
			}
			memPaper := "–"
			if mem.Quantity != "" && !math.IsNaN(mem.Paper) {
				memPaper = strconv.FormatFloat(mem.Paper, 'f', 0, 64)
			}
			rec := append([]string{n, report.PaperType(v), memPaper, memOurs}, times...)
			rec = append(rec, paperNum(paperTime), num(paperPD))
			tab = append(tab, append(rec, pdrops...))
		}
	}
	return Table(hdr, tab)
}
