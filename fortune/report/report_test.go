package report

import (
	"bytes"
	"encoding/csv"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fortune-go/fortune/fortune/metrics"
)

var fixedProv = Provenance{
	Title:    "Tiny table",
	Version:  "v0.0.0-test",
	Date:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	Backend:  "simplego",
	Device:   "cpu",
	Seeds:    map[string]uint64{"faults": 42, "data": 7},
	Settings: map[string]string{"trials": "20", "fault_sites": "uniform"},
}

func TestPaperTables(t *testing.T) {
	t1, err := PaperTableI()
	if err != nil {
		t.Fatal(err)
	}
	if len(t1) != 4 {
		t.Fatalf("Table I has %d rows, want 4", len(t1))
	}
	cellsI := []struct {
		row   int
		model string
		want  float64
		width int
	}{
		{0, "VGG11", 92.41, 8},
		{1, "AlexNet", 95.46, 5},
		{2, "ResNet18", 92.66, 4},
		{3, "Inception", 80.71, 3},
	}
	for _, c := range cellsI {
		r := t1[c.row]
		if r.Width != c.width || r.Accuracy[c.model] != c.want || len(r.Accuracy) != 4 {
			t.Errorf("Table I row %d (%s): width %d, %s = %v; want %d, %v", c.row, r.Type, r.Width, c.model, r.Accuracy[c.model], c.width, c.want)
		}
	}
	t2, err := PaperTableII()
	if err != nil {
		t.Fatal(err)
	}
	if len(t2) != 15 {
		t.Fatalf("Table II has %d rows, want 15", len(t2))
	}
	cellsII := []struct {
		row         int
		model, vrnt string
		mem         int64
		time        float64
		ber         int
		vul, pdrop  float64
	}{
		{0, "VGG11", "8-bit", 225064448, 100, 0, 5.62, 50.21e-3},
		{1, "VGG11", "P-5", 196931392, 141.72, 3, 68.73, 1063.52e-3},
		{8, "AlexNet", "8-bit", 466316032, 100, 3, 30.71, 2664.70e-3},
		{14, "Inception", "P-4", 129758592, 291.73, 2, 0.08, 0.33e-3},
	}
	for _, c := range cellsII {
		r := t2[c.row]
		if r.Model != c.model || r.Variant != c.vrnt || r.MemoryBits != c.mem || r.ExecTimePct != c.time ||
			r.Vulnerability[c.ber] != c.vul || math.Abs(r.PDrop[c.ber]-c.pdrop) > 1e-15 {
			t.Errorf("Table II row %d = %+v, want %+v", c.row, r, c)
		}
		if len(r.BERs) != 4 || r.BERs[3] != 3e-4 {
			t.Errorf("row %d BERs = %v", c.row, r.BERs)
		}
	}
	// Round trip: the parsed table written back with the same layout parses equal.
	var b strings.Builder
	b.WriteString("# comment line\nmodel,type,memory_bits,exec_time_pct,vul_1e-5,pdrop_1e-5\n")
	b.WriteString("VGG11,P-3-bit,140665280,141.72,1.49,17.66E-3\n")
	rt, err := ParseTableII(strings.NewReader(b.String()))
	if err != nil || len(rt) != 1 || rt[0].Variant != "P-3" || rt[0].PDrop[0] != 17.66e-3 || rt[0].BERs[0] != 1e-5 {
		t.Errorf("ParseTableII round trip = %+v, %v", rt, err)
	}
	bad := []string{
		"model,type\nVGG11,8-bit\n",
		"model,type,memory_bits,exec_time_pct,vul_1e-5\nVGG11,8-bit,1,100,1\n",
		"model,type,memory_bits,exec_time_pct,vul_1e-5,pdrop_1e-5\nVGG11,Q-8,1,100,1,1\n",
		"model,type,memory_bits,exec_time_pct,vul_1e-5,pdrop_1e-5\nVGG11,8-bit,x,100,1,1\n",
	}
	for _, s := range bad {
		if _, err := ParseTableII(strings.NewReader(s)); err == nil {
			t.Errorf("ParseTableII(%q): want error", s)
		}
	}
}

func TestPaperRows(t *testing.T) {
	rows, err := PaperRows(metrics.PDropModel{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 15 {
		t.Fatalf("%d rows, want 15", len(rows))
	}
	tests := []struct {
		row       int
		ber       float64
		golden    float64
		rap       float64
		eq6       float64
		legacy    float64
		tolerance float64
	}{
		{0, 1e-5, 92.41, 5.62, 3.79e-3, 50.21e-3, 0.005e-3},
		{1, 3e-4, 92.19, 85.23, 1063.52e-3, 1063.52e-3, 0.005},
		{6, 1e-5, 92.66, 0.215, 0.61e-3, 0.61e-3, 0.0005},
		{7, 1e-5, 90.84, 0.187, 0.51e-3, 0.51e-3, 0.0005},
	}
	for _, tc := range tests {
		r := rows[tc.row]
		s, ok := r.At(tc.ber)
		if !ok {
			t.Fatalf("row %d: no BER %g", tc.row, tc.ber)
		}
		if r.Golden != tc.golden {
			t.Errorf("row %d golden = %v, want %v", tc.row, r.Golden, tc.golden)
		}
		if math.Abs(s.RAP-tc.rap) > tc.tolerance {
			t.Errorf("row %d (%s %s) RAP = %v, want %v", tc.row, r.Model, r.Variant, s.RAP, tc.rap)
		}
		if s.PDropLegacy != tc.legacy {
			t.Errorf("row %d legacy P_drop = %v, want the paper's %v", tc.row, s.PDropLegacy, tc.legacy)
		}
		if tc.row == 0 && math.Abs(s.PDropEq6-tc.eq6) > tc.tolerance {
			t.Errorf("row 0 Eq6 = %v, want %v", s.PDropEq6, tc.eq6)
		}
	}
}

func TestTableIMarkdownGolden(t *testing.T) {
	rows := []Row{
		{Model: "vgg11_bn", Variant: "8-bit", Golden: 92.4179},
		{Model: "vgg11_bn", Variant: "P-5", Golden: 92.1975},
		{Model: "vgg11_bn", Variant: "U-5", Golden: 92.1},
		{Model: "resnet18", Variant: "8-bit", Golden: 93.0689},
	}
	got, err := TableIMarkdown(fixedProv, rows)
	if err != nil {
		t.Fatal(err)
	}
	want := `## Tiny table

- **version:** v0.0.0-test
- **date:** 2026-01-02T03:04:05Z
- **backend:** simplego
- **device:** cpu
- **seeds:** data=7 faults=42
- **setting fault_sites:** uniform
- **setting trials:** 20

| Type | vgg11_bn | resnet18 |
|---|--:|--:|
| 8-bit | 92.42 | 93.07 |
| 5-bit | 92.10 | – |
`
	if string(got) != want {
		t.Errorf("TableIMarkdown:\n%s\nwant:\n%s", got, want)
	}
	csvOut, err := TableICSV(fixedProv, rows)
	if err != nil {
		t.Fatal(err)
	}
	wantCSV := "# title: Tiny table\n# version: v0.0.0-test\n# date: 2026-01-02T03:04:05Z\n# backend: simplego\n# device: cpu\n# seeds: data=7 faults=42\n# setting fault_sites: uniform\n# setting trials: 20\ntype,vgg11_bn,resnet18\n8-bit,92.4179,93.0689\n5-bit,92.1,\n"
	if string(csvOut) != wantCSV {
		t.Errorf("TableICSV:\n%s\nwant:\n%s", csvOut, wantCSV)
	}
	back, err := ParseTableI(strings.NewReader(strings.Replace(string(csvOut), "5-bit,92.1,", "5-bit,92.1,0", 1)))
	if err != nil || len(back) != 2 || back[0].Accuracy["resnet18"] != 93.0689 {
		t.Errorf("ParseTableI(TableICSV) = %+v, %v", back, err)
	}
}

func tinyRows(t *testing.T) []Row {
	t.Helper()
	mk := func(ber float64, drops ...float64) BERStat {
		s, err := NewBERStat(ber, drops, 0)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rows := []Row{
		{Model: "VGG11", Variant: "8-bit", Golden: 92.42, MemoryBits: 225064448, ExecTimePct: 100,
			PerBER: []BERStat{mk(1e-5, 5, 6, 7), mk(3e-4, 74, 75, 76)}},
		{Model: "VGG11", Variant: "P-5", Golden: 92.2, MemoryBits: 196931392, ExecTimePct: 141.72,
			PerBER: []BERStat{mk(1e-5, 1, 1.2, 1.1), mk(3e-4, 68, 69, 69.2)}},
	}
	if err := FillDerived(rows, metrics.PDropModel{}); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestTableIIMarkdownGolden(t *testing.T) {
	rows := tinyRows(t)
	p := fixedProv
	p.Seeds, p.Settings, p.Title = nil, nil, ""
	got, err := TableIIMarkdown(p, rows, TableIIOptions{PDrop: metrics.LegacyTable, ShowCI: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `## Table II (memory, time, vulnerability, P_drop)

- **version:** v0.0.0-test
- **date:** 2026-01-02T03:04:05Z
- **backend:** simplego
- **device:** cpu
- **seeds:** unknown

| Model | Type | Memory Utilization (bits) | Execution Time (%) | Vulnerability 1e-5 | Vulnerability 3e-4 | P_drop (legacy) 1e-5 | P_drop (legacy) 3e-4 |
|---|---|--:|--:|--:|--:|--:|--:|
| VGG11 | 8-bit | 225064448 | 100 | 6.00 [3.52, 8.48] | 75.0 [72.5, 77.5] | 0.0505 | 1.52 |
| VGG11 | P-5-bit | 196931392 | 142 | 1.10 [0.852, 1.35] | 68.7 [67.1, 70.3] | 0.0355 | 1.06 |
`
	if string(got) != want {
		t.Errorf("TableIIMarkdown:\n%s\nwant:\n%s", got, want)
	}
	eq6, err := TableIIMarkdown(p, rows, TableIIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(eq6), "| 0.00404 |") || !strings.Contains(string(eq6), "P_drop (Eq. 6) 1e-5") {
		t.Errorf("Eq. 6 Markdown lacks the BER-matched P_drop:\n%s", eq6)
	}
	if _, err := TableIIMarkdown(p, rows, TableIIOptions{PDrop: 9}); err == nil {
		t.Error("unknown P_drop mode: want error")
	}
}

func TestTableIICSV(t *testing.T) {
	rows := tinyRows(t)
	out, err := TableIICSV(fixedProv, rows)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("# title: Tiny table\n")) {
		t.Errorf("CSV does not start with the provenance header:\n%s", out)
	}
	cr := csv.NewReader(bytes.NewReader(out))
	cr.Comment = '#'
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || len(recs[0]) != 6+8*2 {
		t.Fatalf("got %d records of %d columns", len(recs), len(recs[0]))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	checks := []struct {
		row  int
		col  string
		want string
	}{
		{1, "vul_1e-5", "6"},
		{1, "trials_3e-4", "3"},
		{2, "variant", "P-5"},
		{2, "rap_3e-4", ""}, // checked numerically below
		{1, "vul_std_1e-5", "1"},
	}
	for _, c := range checks {
		i, ok := col[c.col]
		if !ok {
			t.Fatalf("no column %q in %v", c.col, recs[0])
		}
		if c.want != "" && recs[c.row][i] != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.col, recs[c.row][i], c.want)
		}
	}
	if got := recs[2][col["rap_3e-4"]]; !strings.HasPrefix(got, "85.2") {
		t.Errorf("P-5 RAP at 3e-4 = %s, want ≈ 85.2", got)
	}
}

func TestCompare(t *testing.T) {
	paper, err := PaperRows(metrics.PDropModel{})
	if err != nil {
		t.Fatal(err)
	}
	cmp, err := Compare(paper, metrics.LegacyTable)
	if err != nil {
		t.Fatal(err)
	}
	// 15 rows × (golden + memory + time + 4 vul + 4 pdrop) = 15 × 11.
	if len(cmp) != 165 {
		t.Fatalf("%d comparisons, want 165", len(cmp))
	}
	for _, c := range cmp {
		if math.IsNaN(c.Paper) && c.Quantity == "golden_pct" {
			continue
		}
		if c.Diff != 0 {
			t.Errorf("paper vs itself: %+v", c)
		}
	}
	// In Eq. 6 mode the paper's side is Eq. 6 from its own vulnerabilities, not its table cells
	// (which use the 3e-4 drop at every BER): the paper against itself differs by rounding only.
	cmp, err = Compare(paper, metrics.BERMatched)
	if err != nil {
		t.Fatal(err)
	}
	eq6 := 0
	for _, c := range cmp {
		if c.Quantity == "pdrop_eq6" {
			eq6++
			if math.Abs(c.RelDiffPct) > 1e-9 {
				t.Errorf("paper vs itself, Eq. 6: %+v", c)
			}
		}
	}
	if eq6 != 60 {
		t.Errorf("%d Eq. 6 comparisons, want 60", eq6)
	}
	ours := tinyRows(t)
	cmp, err = Compare(ours, metrics.BERMatched)
	if err != nil {
		t.Fatal(err)
	}
	var vul *Comparison
	for i := range cmp {
		if cmp[i].Variant == "P-5" && cmp[i].Quantity == "vulnerability_pp" && cmp[i].BER == 3e-4 {
			vul = &cmp[i]
		}
	}
	if vul == nil || vul.Paper != 68.73 || vul.PaperInCI != "yes" || math.Abs(vul.Diff-(68.7333333333-68.73)) > 1e-6 {
		t.Errorf("P-5 3e-4 vulnerability comparison = %+v", vul)
	}
	md, err := ComparisonMarkdown(fixedProv, cmp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| VGG11 | P-5-bit | vulnerability_pp | 3e-4 | 68.7 | 68.7 | 0.00333 | 0.00485 % | yes |") {
		t.Errorf("comparison Markdown:\n%s", md)
	}
	c, err := ComparisonCSV(fixedProv, cmp)
	if err != nil || !bytes.HasPrefix(c, []byte("# title: Tiny table\n")) || !bytes.Contains(c, []byte("model,variant,quantity,ber,ours,paper,diff,rel_diff_pct,paper_in_ci\n")) {
		t.Errorf("comparison CSV = %s, %v", c, err)
	}
	// A variant without a paper row still gets its golden compared.
	cmp, err = Compare([]Row{{Model: "ResNet-18", Variant: "U-3", Golden: 90}}, metrics.LegacyTable)
	if err != nil || len(cmp) != 1 || cmp[0].Paper != 90.84 || math.Abs(cmp[0].Diff+0.84) > 1e-9 {
		t.Errorf("U-3 comparison = %+v, %v", cmp, err)
	}
}

func TestHelpers(t *testing.T) {
	labels := map[float64]string{1e-5: "1e-5", 3e-4: "3e-4", 1e-4: "1e-4", 0.5: "5e-1", 2: "2e0", 1.5e-7: "1.5e-7"}
	for b, want := range labels {
		if got := BERLabel(b); got != want {
			t.Errorf("BERLabel(%g) = %q, want %q", b, got, want)
		}
	}
	models := map[string]string{"vgg11_bn": "VGG11", "VGG-11": "VGG11", "resnet18": "ResNet18", "ResNet-18": "ResNet18",
		"alexnet": "AlexNet", "inception_v3": "Inception", "lenet": "lenet"}
	for in, want := range models {
		if got := NormalizeModel(in); got != want {
			t.Errorf("NormalizeModel(%q) = %q, want %q", in, got, want)
		}
	}
	types := map[string]string{"8-bit": "8-bit", "P-5": "P-5-bit", "U-4": "4-bit", "bogus": "bogus", "sec-4": "SEC-4", "TMR-2": "TMR-2"}
	for in, want := range types {
		if got := PaperType(in); got != want {
			t.Errorf("PaperType(%q) = %q, want %q", in, got, want)
		}
	}
	s, err := NewBERStat(1e-5, []float64{1}, 0)
	if err != nil || s.Trials != 1 || !math.IsNaN(s.CILow) || s.VulMean != 1 {
		t.Errorf("NewBERStat single = %+v, %v", s, err)
	}
	if _, err := NewBERStat(1e-5, nil, 0); err == nil {
		t.Error("NewBERStat(nil): want error")
	}
	// No 8-bit baseline → RAP NaN; no 3e-4 → legacy NaN.
	rows := []Row{{Model: "X", Variant: "P-4", MemoryBits: 100, ExecTimePct: 110, PerBER: []BERStat{{BER: 1e-5, VulMean: 1}}}}
	if err := FillDerived(rows, metrics.PDropModel{}); err != nil {
		t.Fatal(err)
	}
	if s := rows[0].PerBER[0]; !math.IsNaN(s.RAP) || !math.IsNaN(s.PDropLegacy) || !(s.PDropEq6 > 0) {
		t.Errorf("FillDerived without baseline = %+v", s)
	}
	if err := FillDerived([]Row{{Model: "X", Variant: "Z"}}, metrics.PDropModel{}); err == nil {
		t.Error("FillDerived with a bad variant: want error")
	}
}

func checkFigure(t *testing.T, f Figure, name string) {
	t.Helper()
	if f.Name != name {
		t.Errorf("name %q, want %q", f.Name, name)
	}
	img, err := png.Decode(bytes.NewReader(f.PNG))
	if err != nil {
		t.Fatalf("%s PNG: %v", name, err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("%s PNG is %v", name, b)
	}
	s := strings.TrimSpace(string(f.SVG))
	if !(strings.HasPrefix(s, "<?xml") || strings.HasPrefix(s, "<svg")) || !strings.Contains(s, "</svg>") {
		t.Errorf("%s SVG does not look like SVG: %.80q", name, s)
	}
}

func TestFigures(t *testing.T) {
	paper, err := PaperRows(metrics.PDropModel{})
	if err != nil {
		t.Fatal(err)
	}
	ours := tinyRows(t)
	prov := fixedProv
	tests := []struct {
		name string
		fn   func([]Row, FigureOptions) (Figure, error)
		rows []Row
		opts FigureOptions
	}{
		{"figure5", Figure5, ours, FigureOptions{Title: "Figure 5 (ours)", Provenance: &prov}},
		{"figure5", Figure5, paper, FigureOptions{DPI: 72, HidePaper: true}},
		{"figure6", Figure6, paper, FigureOptions{DPI: 72, PDrop: metrics.LegacyTable, HidePaper: true}},
		{"figure6", Figure6, ours, FigureOptions{DPI: 72}},
		{"figure7", Figure7, paper, FigureOptions{DPI: 72, HidePaper: true}},
	}
	for _, tc := range tests {
		f, err := tc.fn(tc.rows, tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		checkFigure(t, f, tc.name)
		if tc.opts.Provenance != nil {
			if !bytes.Contains(f.SVG, []byte("<!-- provenance")) || !bytes.Contains(f.PNG, []byte("tEXtComment\x00title: Tiny table")) {
				t.Errorf("%s: provenance not embedded", tc.name)
			}
		}
	}
	// Error bars appear only when CIs are known: SVG of ours has more paths.
	f, err := Figure5(ours, FigureOptions{DPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sp, pp, err := f.Save(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{sp, pp} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, fn := range []func([]Row, FigureOptions) (Figure, error){Figure5, Figure6, Figure7} {
		if _, err := fn(nil, FigureOptions{}); err == nil {
			t.Error("figure of no rows: want error")
		}
	}
}

// TestFigure6SingleBER: a run with one BER (and one point per series) still draws.
func TestFigure6SingleBER(t *testing.T) {
	rows := []Row{{Model: "lenet5", Variant: "8-bit", MemoryBits: 1000, PerBER: []BERStat{{BER: 1e-2, VulMean: 3, PDropEq6: 2e-6}}}}
	f, err := Figure6(rows, FigureOptions{})
	if err != nil || len(f.PNG) == 0 {
		t.Fatalf("Figure6 with one BER: %v", err)
	}
}

// TestFormatNumber: one format with 3 significant digits for every size of number (the
// old Table II printed "0.02E-3" beside "9.26e-07", and "-0.00").
func TestFormatNumber(t *testing.T) {
	tests := map[float64]string{
		0: "0", math.Copysign(0, -1): "0", math.NaN(): "–", math.Inf(1): "∞", math.Inf(-1): "-∞",
		74.529: "74.5", 5.62: "5.62", 0.18: "0.180", 141.72: "142", 100: "100", 999.6: "1.00e+03",
		1506.3: "1.51e+03", 0.05021: "0.0502", 0.00123: "0.00123", 0.000999: "9.99e-04",
		2e-5: "2.00e-05", 9.26e-7: "9.26e-07", -0.001: "-0.00100", -4.34e-10: "-4.34e-10", 2.8e-15: "2.80e-15",
	}
	for x, want := range tests {
		if got := FormatNumber(x); got != want {
			t.Errorf("FormatNumber(%v) = %q, want %q", x, got, want)
		}
	}
}

// TestTableIINegativeMarked: a negative vulnerability and P_drop (noise) carry a mark that
// a footnote explains; a zero drop prints 0; no cell reads "-0.00" or uses "E-3".
func TestTableIINegativeMarked(t *testing.T) {
	stat := func(ber float64, lost ...int) BERStat {
		s, err := NewBERStatCounts(ber, lost, 2000, 0)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rows := []Row{{Model: "VGG11", Variant: "8-bit", Golden: 98.7, MemoryBits: 491760, ExecTimePct: 100,
		PerBER: []BERStat{stat(1e-5, 1, 0, -2), stat(3e-5, 2, -2, 0), stat(1e-2, 120, 90, 118)}}}
	if err := FillDerived(rows, metrics.PDropModel{}); err != nil {
		t.Fatal(err)
	}
	md, err := TableIIMarkdown(fixedProv, rows, TableIIOptions{ShowCI: true})
	if err != nil {
		t.Fatal(err)
	}
	got := string(md)
	for _, want := range []string{
		"| -0.0167† [-0.206, 0.173] | 0 [-0.248, 0.248] | 5.47 [3.38, 7.55] | -5.36e-11† | 0 | 1.76e-05 |",
		"\n" + negFootnote + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Table II lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"-0.00 ", "-0.00]", "E-3", "e-23"} {
		if strings.Contains(got, bad) {
			t.Errorf("Table II contains %q:\n%s", bad, got)
		}
	}
	// No negative value, no footnote.
	md, err = TableIIMarkdown(fixedProv, tinyRows(t), TableIIOptions{})
	if err != nil || strings.Contains(string(md), negMark) {
		t.Errorf("Table II without negative values has a mark or fails (%v):\n%s", err, md)
	}
	cmp, err := Compare(rows, metrics.BERMatched)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := ComparisonMarkdown(fixedProv, cmp)
	if err != nil || !strings.Contains(string(cm), "-0.0167†") || !strings.Contains(string(cm), negFootnote) {
		t.Errorf("comparison (%v) lacks the mark:\n%s", err, cm)
	}
}

// TestRunLabelsStayApart: two runs of one of the paper's networks under their own labels stay
// apart in RAP, Table II, the comparison and every figure (one panel each, both with the paper's
// values beside them); they were merged under NormalizeModel's "VGG11".
func TestRunLabelsStayApart(t *testing.T) {
	mk := func(label string, mem8 int64, drop8, drop5 float64) []Row {
		return []Row{
			{Model: label, Variant: "8-bit", Golden: 92, MemoryBits: mem8, ExecTimePct: 100,
				PerBER: []BERStat{{BER: 1e-5, VulMean: drop8}, {BER: 3e-4, VulMean: drop8}}},
			{Model: label, Variant: "P-5", Golden: 91, MemoryBits: 196931392, ExecTimePct: 140,
				PerBER: []BERStat{{BER: 1e-5, VulMean: drop5}, {BER: 3e-4, VulMean: drop5}}},
		}
	}
	rows := append(mk("vgg11 (legacy)", 225064448, 5, 1), mk("vgg11 (corrected)", 2*225064448, 2, 0.5)...)
	if err := FillDerived(rows, metrics.PDropModel{C: metrics.DefaultC}); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 3} {
		want, _ := metrics.RAP(rows[i].PerBER[0].VulMean, float64(rows[i].MemoryBits), float64(rows[i-1].MemoryBits), 140, 100)
		if got := rows[i].PerBER[0].RAP; got != want {
			t.Errorf("%s P-5 RAP %v, want %v against its own 8-bit row", rows[i].Model, got, want)
		}
	}
	md, err := TableIIMarkdown(fixedProv, rows, TableIIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| vgg11 (legacy) | P-5-bit |") || !strings.Contains(string(md), "| vgg11 (corrected) | P-5-bit |") {
		t.Errorf("Table II without the run labels:\n%s", md)
	}
	cmp, err := Compare(rows, metrics.BERMatched)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, c := range cmp {
		if c.Quantity == "memory_bits" && c.Paper == 225064448 {
			n[c.Model]++
		}
	}
	if n["vgg11 (legacy)"] != 1 || n["vgg11 (corrected)"] != 1 {
		t.Errorf("comparison of the 8-bit memory with the paper's VGG11, per label: %v", n)
	}
	for _, fn := range []func([]Row, FigureOptions) (Figure, error){Figure5, Figure6, Figure7} {
		f, err := fn(rows, FigureOptions{DPI: 72})
		if err != nil {
			t.Fatal(err)
		}
		texts := strings.Join(svgTexts(f.SVG), "|")
		if !strings.Contains(texts, "vgg11 (legacy)") || !strings.Contains(texts, "vgg11 (corrected)") || !strings.Contains(texts, "paper (") {
			t.Errorf("%s: want a panel per run label, with the paper's values: %s", f.Name, texts)
		}
	}
}
