package nbkit

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/campaign"
	"github.com/fortune-go/fortune/fortune/inject"
)

// writeRun writes a small results file root/folder/protocol/model.jsonl: 8-bit and P-3, 1,000
// images, 3 trials at BER 3e-4 with the given losses (images) per variant.
func writeRun(t *testing.T, root, folder, protocol, model string, golden int, lost map[string][]int) {
	t.Helper()
	dir := filepath.Join(root, "results", folder, protocol)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := campaign.Settings{Model: model, Variants: []string{"8-bit", "P-3"}, BERs: []float64{3e-4}, Trials: 3,
		Eval: "test, first 1000 images"} // Placement: the zero value, inject.Distinct.
	if protocol == "legacy" {
		s.Placement = inject.Legacy
	}
	recs := []campaign.Record{{Kind: "header", Settings: &s, Provenance: &campaign.Provenance{Version: "test", Backend: "go", Started: "2026-12-04T09:26:12Z"}}}
	for _, v := range []string{"8-bit", "P-3"} {
		mem := int64(8)
		if v == "P-3" {
			mem = 5
		}
		recs = append(recs, campaign.Record{Kind: "golden", Model: model, Variant: v, Correct: golden, Total: 1000, MemoryBits: mem * 1000})
		recs = append(recs, campaign.Record{Kind: "timing", Model: model, Variant: v, Seconds: 1, Runs: 5})
		for i, l := range lost[v] {
			recs = append(recs, campaign.Record{Kind: "trial", Model: model, Variant: v, BER: 3e-4, Trial: i, Correct: golden - l, Total: 1000})
		}
	}
	f, err := os.Create(filepath.Join(dir, model+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPaperRuns: networks and protocols are discovered from the files, ordered as the paper
// orders its networks (corrected before legacy), labelled per run, and a later folder
// supersedes an earlier one for the same network and protocol.
func TestPaperRuns(t *testing.T) {
	root := t.TempDir()
	lost := map[string][]int{"8-bit": {300, 310, 320}, "P-3": {130, 140, 150}}
	writeRun(t, root, "2026-12-04-cpu-paper", "legacy", "vgg11", 750, lost)
	writeRun(t, root, "2026-12-04-cpu-paper", "corrected", "vgg11", 750, map[string][]int{"8-bit": {0, 5, -4}, "P-3": {1, 0, 2}})
	writeRun(t, root, "2026-12-04-cpu-paper", "legacy", "alexnet", 900, lost)
	writeRun(t, root, "2026-12-10-cpu-paper-alexnet", "legacy", "alexnet", 910, lost)
	writeRun(t, root, "2026-12-04-cpu-quick", "corrected", "lenet5", 800, lost) // Not a paper folder.
	runs, superseded, err := PaperRuns(root)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, r := range runs {
		labels = append(labels, r.Label()+" "+r.Folder)
	}
	want := []string{"vgg11 (corrected) results/2026-12-04-cpu-paper", "vgg11 (legacy) results/2026-12-04-cpu-paper",
		"alexnet (legacy) results/2026-12-10-cpu-paper-alexnet"}
	if strings.Join(labels, "|") != strings.Join(want, "|") {
		t.Errorf("runs %q, want %q", labels, want)
	}
	if len(superseded) != 1 || superseded[0] != "results/2026-12-04-cpu-paper/legacy/alexnet.jsonl" {
		t.Errorf("superseded %q", superseded)
	}
	if got := Rows(runs)[0].Model; got != "vgg11 (corrected)" {
		t.Errorf("first row labelled %q", got)
	}
	if g := runs[2].Rows[0].Golden; g != 91 {
		t.Errorf("alexnet golden %v, want the later folder's 91", g)
	}
	if p := Protocols(runs); strings.Join(p, ",") != "corrected,legacy" {
		t.Errorf("protocols %v", p)
	}
	// The runs table names each run's weights: by the file's record, else by the folder's README.
	runs[0].Settings.WeightsFile = &campaign.WeightsFile{SHA256: "13e45807" + strings.Repeat("0", 56), Training: "fortune train: 210 of 210 planned steps"}
	md := RunsMarkdown(runs)
	runs[0].Settings.WeightsFile = nil
	for _, w := range []string{"| vgg11 | corrected | [results/2026-12-04-cpu-paper](../results/2026-12-04-cpu-paper/README.md) | `13e45807…`, fortune train: 210 of 210 planned steps | test, first 1000 images |",
		"| vgg11 | legacy | [results/2026-12-04-cpu-paper](../results/2026-12-04-cpu-paper/README.md) | in the folder's README | test, first 1000 images |"} {
		if !strings.Contains(md, w) {
			t.Errorf("runs table lacks %q:\n%s", w, md)
		}
	}

	// Table II: the paper's VGG11 8-bit at 3e-4 (74.52) is outside our legacy interval around 31 pp.
	t2 := TableIIMarkdown(runs)
	for _, w := range []string{"| vgg11 | 8-bit | paper | 5.62 | 22.30 | 62.40 | 74.52 |", "| alexnet | 8-bit | paper | 0.00 | 0.49 | 3.14 | 30.71 |",
		"|  |  | ours, legacy | – | – | – | 31.0 [28.5, 33.5] ✗ |", "|  |  | ours, legacy | – | – | – | 31.0 [28.5, 33.5] ✓ |"} {
		if !strings.Contains(t2, w) {
			t.Errorf("Table II lacks %q:\n%s", w, t2)
		}
	}
	// Claims: AlexNet P-3 against 8-bit (paper −55.8 %): ours −54.8 % with an interval holding it.
	claim := ChangeClaim(runs, "P-3", "8-bit", 3e-4)
	for _, w := range []string{"**AlexNet** P-3-bit against 8-bit at BER 3·10⁻⁴: paper −55.8 % (13.58 against 30.71 pp); ours −54.8 % [",
		"(legacy: 14.0 against 31.0 pp; paper inside)", "**ResNet18**", "no results of ours yet (no resnet18.jsonl in results/*-paper*/PROTOCOL/)",
		"interval unbounded (corrected"} {
		if !strings.Contains(claim, w) {
			t.Errorf("claim lacks %q:\n%s", w, claim)
		}
	}
	if v := VulnerabilityClaim(runs, "8-bit", 3e-4); !strings.Contains(v, "**VGG11** 8-bit at BER 3·10⁻⁴: paper 74.52 pp; ours 0.0333 [") {
		t.Errorf("vulnerability claim:\n%s", v)
	}
	// The paper's Inception has an 8-bit row but no P-3 one: the claim names the missing row.
	if m := MemoryTimeClaim(runs); !strings.Contains(m, "ours (legacy): memory −37.5 %") || !strings.Contains(m, "**Inception** paper: memory of P-3 – (no P-3 row),") {
		t.Errorf("memory claim:\n%s", m)
	}
	if ps := ProtocolSummary(runs); !strings.Contains(ps, "- **vgg11** — corrected: largest drop 0.100 pp (P-3-bit at 3·10⁻⁴); legacy: largest drop 31.0 pp (8-bit at 3·10⁻⁴); the corrected and legacy intervals overlap in 0 of 2") ||
		!strings.Contains(ps, "- **alexnet** — corrected: no run; legacy: largest drop 31.0 pp") {
		t.Errorf("protocol summary:\n%s", ps)
	}
	if t1 := TableIMarkdown(runs); !strings.Contains(t1, "| alexnet | 8-bit | 95.32 | – | 91.00 [") {
		t.Errorf("Table I:\n%s", t1)
	}
}

// TestPaperRunsCommitted reads the committed results and checks that what the notebook shows
// agrees with the comparison.csv that `fortune report` wrote beside each results file, where
// there is one: every vulnerability and whether the paper's value lies in our interval.
func TestPaperRunsCommitted(t *testing.T) {
	root := ModuleRoot()
	runs, _, err := PaperRuns(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) == 0 {
		t.Skip("no committed results of the paper's networks")
	}
	checked := 0
	for _, r := range runs {
		f, err := os.Open(filepath.Join(root, filepath.FromSlash(path.Dir(r.Path)), "comparison.csv"))
		if err != nil {
			continue
		}
		cr := csv.NewReader(f)
		cr.Comment = '#'
		recs, err := cr.ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		cmp := comparisons(r)
		for _, rec := range recs[1:] { // model,variant,quantity,ber,ours,paper,diff,rel_diff_pct,paper_in_ci
			if rec[2] != "vulnerability_pp" || rec[0] != r.Network {
				continue
			}
			c, ok := cmp["vulnerability_pp|"+rec[1]+"|"+rec[3]]
			ours, _ := strconv.ParseFloat(rec[4], 64)
			if !ok || math.Abs(c.Ours-ours) > 1e-9 || c.PaperInCI != rec[8] {
				t.Errorf("%s %s at %s: notebook %+v, %s has %v", r.Label(), rec[1], rec[3], c, r.Path, rec)
			}
			checked++
		}
	}
	t.Logf("%d vulnerabilities checked against the committed comparison files", checked)
}
