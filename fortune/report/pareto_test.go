package report

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/fortune-go/fortune/fortune/metrics"
)

// TestParetoFrontier: a point is on the frontier when no point of W' ≤ W has a higher mean
// (accuracy) and none of W' < W an equal one; equal points of one W are both on it; NaN is
// never on it and beats nothing; a low value is never on it for being least far from
// something (the frontier maximises).
func TestParetoFrontier(t *testing.T) {
	pts := []ParetoPoint{
		{W: 5, Mean: 85.0}, // Beaten by 86 at the same W.
		{W: 5, Mean: 86.0}, // Highest at the smallest W.
		{W: 6, Mean: 85.5}, // Beaten by 86 at W 5.
		{W: 6, Mean: 88.0}, // Above everything at W ≤ 6.
		{W: 7, Mean: 88.0}, // Equals 88 at W 6: more memory for nothing.
		{W: 7, Mean: 88.5}, // Higher.
		{W: 7, Mean: 88.5}, // Its twin.
		{W: 8, Mean: math.NaN()},
		{W: 8, Mean: 88.5},       // Equals 88.5 at W 7: more memory for nothing.
		{W: 8, Mean: 70.0},       // Far below.
		{W: 4, Mean: math.NaN()}, // Would beat everything if NaN compared high.
	}
	want := []bool{false, true, false, true, false, true, true, false, false, false, false}
	if got := ParetoFrontier(pts); !slices.Equal(got, want) {
		t.Errorf("ParetoFrontier = %v, want %v", got, want)
	}
	if got := ParetoFrontier(nil); len(got) != 0 {
		t.Errorf("ParetoFrontier(nil) = %v", got)
	}
}

// TestParetoBestAtW: the highest mean of each W is best (every point with it), an interval
// overlapping a best one's (touching counts) is a tie, an unknown interval is no tie.
func TestParetoBestAtW(t *testing.T) {
	nan := math.NaN()
	pts := []ParetoPoint{
		{W: 6, Mean: 88.0, Lo: 87.5, High: 88.5},
		{W: 6, Mean: 87.8, Lo: 87.7, High: 87.9}, // Inside the best's interval.
		{W: 6, Mean: 87.0, Lo: 86.6, High: 87.4}, // Below it.
		{W: 6, Mean: 87.6, Lo: nan, High: nan},   // Interval unknown.
		{W: 6, Mean: 88.0, Lo: nan, High: nan},   // The best's mean.
		{W: 7, Mean: nan, Lo: nan, High: nan},
		{W: 7, Mean: 89, Lo: 89, High: 89},
		{W: 7, Mean: 88.9, Lo: 88.8, High: 89}, // Touches the best's.
		{W: 7, Mean: 88.7, Lo: 88.5, High: 88.9},
	}
	want := []ParetoRank{ParetoBest, ParetoTied, ParetoWorse, ParetoWorse, ParetoBest, ParetoWorse, ParetoBest, ParetoTied, ParetoWorse}
	if got := ParetoBestAtW(pts); !slices.Equal(got, want) {
		t.Errorf("ParetoBestAtW = %v, want %v", got, want)
	}
}

// TestSpreadLabels: labels that would overlap are moved apart, centered on where they want
// to be, and kept within bounds.
func TestSpreadLabels(t *testing.T) {
	got := spreadLabels([]vg.Length{10, 12, 50}, 10, 0, 100)
	if want := []vg.Length{6, 16, 50}; !slices.Equal(got, want) {
		t.Errorf("spreadLabels = %v, want %v", got, want)
	}
	got = spreadLabels([]vg.Length{95, 96, 97}, 10, 0, 100)
	if want := []vg.Length{80, 90, 100}; !slices.Equal(got, want) {
		t.Errorf("spreadLabels at the top = %v, want %v", got, want)
	}
}

// paretoRows are fixed measurements with classic codes: LeNet-5 at two BERs, two or three
// variants at each W of 5…8 (SEC-3 and TMR-2 share P-4's memory), 4-bit alone at W 4, and a
// negative mean. The fault-free accuracies are LeNet-5's (P-5's raised to 89.1), so that the
// least vulnerable variant of a W is not always the most accurate under faults: SEC-2 and TMR-2
// (2 data bits) start at 70.95 % and lose little.
func paretoRows(t *testing.T) []Row {
	t.Helper()
	stat := func(ber float64, lost ...int) BERStat {
		s, err := NewBERStatCounts(ber, lost, 2000, 0)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	row := func(v string, golden float64, a, b []int) Row {
		pv, err := metrics.ParseVariant(v)
		if err != nil {
			t.Fatal(err)
		}
		return Row{Model: "lenet5", Variant: v, Golden: golden, MemoryBits: int64(61470 * pv.StoredBits()), ExecTimePct: 100,
			PerBER: []BERStat{stat(3e-3, a...), stat(3e-2, b...)}}
	}
	rows := []Row{
		row("8-bit", 88.75, []int{10, 20, 15}, []int{380, 300, 450}),
		row("P-6", 88.80, []int{5, 30, 12}, []int{80, 85, 75}),
		row("SECDED-4", 88.90, []int{0, 1, 0}, []int{90, 40, 120}),
		row("P-5", 89.10, []int{2, 5, 1}, []int{95, 85, 100}),
		row("SEC-4", 88.90, []int{0, 1, 1}, []int{60, 55, 70}),
		row("P-4", 88.90, []int{6, 4, 5}, []int{90, 80, 95}),
		row("SEC-3", 86.20, []int{0, -1, 1}, []int{20, 30, 25}),
		row("TMR-2", 70.95, []int{2, 3, 4}, []int{150, 160, 140}),
		row("P-3", 86.20, []int{25, 30, 20}, []int{130, 140, 125}),
		row("PAR-4", 88.90, []int{60, 40, 80}, []int{300, 320, 310}),
		row("SEC-2", 70.95, []int{0, 1, 0}, []int{20, 25, 30}),
		row("U-4", 88.90, []int{-1, -2, 0}, []int{400, 420, 410}),
	}
	if err := FillDerived(rows, metrics.PDropModel{}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestParetoGolden renders the Pareto figure from paretoRows and compares its SVG with
// testdata/pareto.golden.svg (numbers to 1e-3). Run with -update to rewrite the golden and the
// PNG beside it, which is there to be looked at:
//
//	go test ./fortune/report/ -run TestParetoGolden -update
func TestParetoGolden(t *testing.T) {
	f, err := FigurePareto(paretoRows(t), FigureOptions{Title: "Pareto (test rows)", DPI: 96})
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "pareto" {
		t.Errorf("name %q, want pareto", f.Name)
	}
	checkGolden(t, f, "pareto", "TestParetoGolden")
}

// TestFigureParetoLabels: every variant is labelled once per panel (marked † where its mean
// drop is negative), the best of each W in bold, the panels are one per BER, and the notes
// give the widths, the y quantity and the frontier's rule.
func TestFigureParetoLabels(t *testing.T) {
	rows := paretoRows(t)
	f, err := FigurePareto(rows, FigureOptions{DPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(f.SVG)
	joined := "|" + strings.Join(texts, "|") + "|"
	for _, r := range rows {
		name := shortType(r.Variant)
		if n := strings.Count(joined, "|"+name+"|") + strings.Count(joined, "|"+name+negMark+"|"); n != 2 {
			t.Errorf("%s labelled %d times, want 2 (one per BER)", r.Variant, n)
		}
	}
	for _, want := range []string{"lenet5, BER 3e-3", "lenet5, BER 3e-2", "Stored bits per weight W", "Accuracy under faults (%)",
		"SEC-w w+3", "TMR-w 3w", "highest accuracy at its W", "fault-free accuracy (Table I) minus its mean accuracy drop",
		"Pareto frontier", "|4-bit†|", "† Negative"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no %q in %q", want, joined)
		}
	}
	if strings.Contains(joined, "Vulnerability") {
		t.Errorf("the figure still speaks of vulnerability: %q", joined)
	}
	// The bold labels are the highest accuracy under faults (fault-free − mean drop) of each W.
	// At 3e-3: SECDED-4 (W 8, 88.88), P-5 (7, 88.97, above SEC-4's 88.87 though SEC-4 drops
	// less), P-4 (6, 88.65, not SEC-3 that drops nothing from 86.20), PAR-4 (5, 85.90, not
	// SEC-2 that drops 0.02 from 70.95), 4-bit (4). At 3e-2: P-6 (84.80), SEC-4 (85.82), SEC-3
	// (84.95), P-3 (79.62, not SEC-2 at 69.70 though it drops 1.25 against P-3's 6.58), 4-bit.
	var bold []string
	for _, m := range regexp.MustCompile(`font-weight:bold[^>]*>([^<]*)</text>`).FindAllSubmatch(f.SVG, -1) {
		bold = append(bold, string(m[1]))
	}
	slices.Sort(bold)
	want := []string{"4-bit", "4-bit†", "P-3", "P-4", "P-5", "P-6", "PAR-4", "SEC-3", "SEC-4", "SECDED-4"}
	if !slices.Equal(bold, want) {
		t.Errorf("bold labels %q, want %q", bold, want)
	}
}

// TestFigureParetoNoGolden: a row without a fault-free accuracy is not drawn and is named in a
// note.
func TestFigureParetoNoGolden(t *testing.T) {
	rows := paretoRows(t)
	for i := range rows {
		if rows[i].Variant == "TMR-2" {
			rows[i].Golden = math.NaN()
		}
	}
	f, err := FigurePareto(rows, FigureOptions{DPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	joined := "|" + strings.Join(svgTexts(f.SVG), "|") + "|"
	if strings.Contains(joined, "|TMR-2|") {
		t.Errorf("TMR-2 drawn without a fault-free accuracy: %q", joined)
	}
	if want := "lenet5: not drawn, TMR-2 (no fault-free accuracy)."; !strings.Contains(joined, want) {
		t.Errorf("no %q in %q", want, joined)
	}
}

// TestFigureParetoPaperVariants: rows of the paper's variants alone (8-bit, P-w, w-bit) make a
// figure; rows of a single W do not.
func TestFigureParetoPaperVariants(t *testing.T) {
	rows := figureRows(t) // VGG11 8-bit, P-5, P-4, P-3; lenet5 8-bit, P-4, P-3, U-5.
	if got := ParetoWidths(rows); !slices.Equal(got, []int{5, 6, 7, 8}) {
		t.Errorf("ParetoWidths = %v, want [5 6 7 8]", got)
	}
	f, err := FigurePareto(rows, FigureOptions{DPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Join(svgTexts(f.SVG), "|")
	for _, want := range []string{"VGG11, BER 1e-5", "VGG11, BER 3e-4", "lenet5, BER 1e-2", "|5-bit|", "|P-3|"} {
		if !strings.Contains(texts, want) {
			t.Errorf("no %q in %q", want, texts)
		}
	}
	if strings.Contains(texts, "PAR-w") || strings.Contains(texts, "not drawn") {
		t.Errorf("a code's family or a dropped BER named in %q", texts)
	}
	if _, err := FigurePareto(rows[4:5], FigureOptions{DPI: 72}); err == nil {
		t.Error("a single W gave a Pareto figure")
	}
}
