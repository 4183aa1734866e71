package report

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/metrics"
)

var update = flag.Bool("update", false, "rewrite the golden figures in testdata/ (SVG, and PNG to look at)")

// figureRows are fixed measurements for the figure goldens: VGG11 (a model the paper has,
// so its values are drawn beside ours) with a zero and a negative mean drop, and LeNet-5
// with unprotected variants, one of which shares its memory with P-3.
func figureRows(t *testing.T) []Row {
	t.Helper()
	stat := func(ber float64, lost ...int) BERStat {
		s, err := NewBERStatCounts(ber, lost, 9984, 0)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rows := []Row{
		{Model: "VGG11", Variant: "8-bit", Golden: 92.42, MemoryBits: 225064448, ExecTimePct: 100, PerBER: []BERStat{
			stat(1e-5, 500, 610, 560, 580), stat(3e-5, 2200, 2300, 2150, 2260), stat(1e-4, 6100, 6300, 6250, 6280), stat(3e-4, 7400, 7450, 7460, 7440)}},
		{Model: "VGG11", Variant: "P-5", Golden: 92.20, MemoryBits: 196931392, ExecTimePct: 141.72, PerBER: []BERStat{
			stat(1e-5, 1, -3, 0, -2), stat(3e-5, 510, 530, 500, 540), stat(1e-4, 2000, 2050, 1990, 2030), stat(3e-4, 6850, 6880, 6860, 6870)}},
		{Model: "VGG11", Variant: "P-4", Golden: 92.19, MemoryBits: 168798336, ExecTimePct: 141.72, PerBER: []BERStat{
			stat(1e-5, 140, 150, 145, 148), stat(3e-5, 590, 610, 600, 605), stat(1e-4, 2800, 2830, 2810, 2820), stat(3e-4, 5990, 6000, 6010, 5995)}},
		{Model: "VGG11", Variant: "P-3", Golden: 89.83, MemoryBits: 140665280, ExecTimePct: 141.72, PerBER: []BERStat{
			stat(1e-5, 0, 0, 0, 0), stat(3e-5, 530, 540, 535, 545), stat(1e-4, 3400, 3420, 3410, 3430), stat(3e-4, 6700, 6720, 6710, 6730)}},
		{Model: "lenet5", Variant: "8-bit", Golden: 98.9, MemoryBits: 491760, ExecTimePct: 100, PerBER: []BERStat{
			stat(1e-3, 3, 8, 5), stat(1e-2, 540, 560, 520)}},
		{Model: "lenet5", Variant: "P-4", Golden: 98.8, MemoryBits: 368820, ExecTimePct: 71.25, PerBER: []BERStat{
			stat(1e-3, 12, 14, 13), stat(1e-2, 45, 50, 52)}},
		{Model: "lenet5", Variant: "P-3", Golden: 98.6, MemoryBits: 307350, ExecTimePct: 73.34, PerBER: []BERStat{
			stat(1e-3, 60, 70, 65), stat(1e-2, 100, 110, 105)}},
		{Model: "lenet5", Variant: "U-5", Golden: 98.7, MemoryBits: 307350, ExecTimePct: 73.18, PerBER: []BERStat{
			stat(1e-3, -2, -1, -3), stat(1e-2, 480, 470, 490)}},
	}
	if err := FillDerived(rows, metrics.PDropModel{}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// svgNumber matches the numbers of an SVG document (coordinates, sizes).
var svgNumber = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?`)

// sameSVG compares SVG text with numbers equal to 1e-3 (relative or absolute), so that
// floating-point differences between platforms in the last printed digit do not matter.
func sameSVG(got, want []byte) (bool, string) {
	gn, wn := svgNumber.FindAllIndex(got, -1), svgNumber.FindAllIndex(want, -1)
	gt, wt := svgNumber.ReplaceAll(got, []byte("#")), svgNumber.ReplaceAll(want, []byte("#"))
	if !bytes.Equal(gt, wt) {
		gl, wl := strings.Split(string(gt), "\n"), strings.Split(string(wt), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				return false, "line " + strconv.Itoa(i+1) + ": got " + gl[i] + ", want " + wl[i]
			}
		}
		return false, "different line counts"
	}
	for i := range gn {
		g, _ := strconv.ParseFloat(string(got[gn[i][0]:gn[i][1]]), 64)
		w, _ := strconv.ParseFloat(string(want[wn[i][0]:wn[i][1]]), 64)
		if math.Abs(g-w) > 1e-3*math.Max(1, math.Abs(w)) {
			return false, "number " + strconv.Itoa(i) + ": got " + string(got[gn[i][0]:gn[i][1]]) + ", want " + string(want[wn[i][0]:wn[i][1]])
		}
	}
	return true, ""
}

// TestFigureGoldens renders Figures 5, 6 (both P_drop definitions) and 7 from fixed rows
// and compares their SVG with testdata/NAME.golden.svg. Run with -update to rewrite the
// goldens (and the PNGs beside them, which are there to be looked at, not compared):
//
//	go test ./fortune/report/ -run TestFigureGoldens -update
func TestFigureGoldens(t *testing.T) {
	rows := figureRows(t)
	tests := []struct {
		golden string
		fn     func([]Row, FigureOptions) (Figure, error)
		opts   FigureOptions
	}{
		{"figure5", Figure5, FigureOptions{Title: "Figure 5 (test rows)"}},
		{"figure6", Figure6, FigureOptions{Title: "Figure 6 (test rows)"}},
		{"figure6-legacy", Figure6, FigureOptions{Title: "Figure 6, Table II P_drop (test rows)", PDrop: metrics.LegacyTable}},
		{"figure7", Figure7, FigureOptions{Title: "Figure 7 (test rows)"}},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			tc.opts.DPI = 96
			f, err := tc.fn(rows, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, f, tc.golden, "TestFigureGoldens")
		})
	}
}

// checkGolden compares f's SVG with testdata/GOLDEN.golden.svg (numbers to 1e-3), or, with
// -update, rewrites it and the PNG beside it (there to be looked at); test names the test that
// -run selects to update it.
func checkGolden(t *testing.T, f Figure, golden, test string) {
	t.Helper()
	path := filepath.Join("testdata", golden+".golden.svg")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f.SVG, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(strings.TrimSuffix(path, ".svg")+".png", f.PNG, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./fortune/report/ -run %s -update)", err, test)
	}
	if ok, diff := sameSVG(f.SVG, want); !ok {
		t.Errorf("%s differs from %s (%s); if the change is intended, run with -update and look at the PNG", f.Name, path, diff)
	}
}

// svgTexts returns the text elements of an SVG document.
func svgTexts(svg []byte) []string {
	var out []string
	for _, m := range regexp.MustCompile(`>([^<]*)</text>`).FindAllSubmatch(svg, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// TestFigure6Readable: the tick labels are short (no "1.0000000000000007e+06"), the P_drop
// axis spans the values drawn (not 1e-23 … 1e6 as with a float residue), and values a log
// axis cannot show are named in a note rather than dropped silently.
func TestFigure6Readable(t *testing.T) {
	rows := []Row{{Model: "lenet5", Variant: "8-bit", MemoryBits: 491760, PerBER: []BERStat{
		{BER: 1e-5, PDropEq6: 8.04e-11}, {BER: 3e-5, PDropEq6: -4.34e-10}, {BER: 1e-4, PDropEq6: 0},
		{BER: 1e-3, PDropEq6: 1.77e-8}, {BER: 1e-2, PDropEq6: 1.75e-5}}}}
	f, err := Figure6(rows, FigureOptions{DPI: 72, HidePaper: true})
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Join(svgTexts(f.SVG), "|")
	for _, want := range []string{"|1e-10|", "|1e-5|", "|1e-9|", "ours 8-bit at 3e-5 (-4.34e-10†), 1e-4 (0)", "Not drawn", "† Negative"} {
		if !strings.Contains("|"+texts+"|", want) {
			t.Errorf("Figure 6 lacks %q in its text: %s", want, texts)
		}
	}
	for _, text := range svgTexts(f.SVG) {
		if len(text) <= 8 && (strings.Contains(text, "e-12") || strings.Contains(text, "e-4") || strings.Contains(text, "e+")) {
			t.Errorf("tick label %q outside the data's decades or long-winded", text)
		}
		if strings.Contains(text, "0000") {
			t.Errorf("unreadable label %q", text)
		}
	}
}

// TestLog10Ticks: at most about 7 labels however many decades, labelled 2 and 5 × 10^k when
// the range holds fewer than two powers of ten, one notation per axis.
func TestLog10Ticks(t *testing.T) {
	labels := func(lo, hi float64) []string {
		var out []string
		for _, tk := range (log10Ticks{}).Ticks(math.Log10(lo), math.Log10(hi)) {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
			if v := math.Pow(10, tk.Value); v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				t.Errorf("tick %g outside [%g, %g]", v, lo, hi)
			}
		}
		return out
	}
	tests := []struct {
		lo, hi float64
		want   string
	}{
		{1e-23, 1e6, "1e-20 1e-15 1e-10 1e-5 1e0 1e5"},
		{3e-11, 2e-5, "1e-10 1e-9 1e-8 1e-7 1e-6 1e-5"},
		{0.002, 0.9, "0.01 0.1"},
		{0.3, 0.9, "0.5"},
		{1.2e-6, 9e-6, "2e-6 5e-6"},
		{0.05, 2, "0.1 1"},
		{3e-4, 2, "1e-3 1e-2 1e-1 1e0"},
	}
	for _, tc := range tests {
		if got := strings.Join(labels(tc.lo, tc.hi), " "); got != tc.want {
			t.Errorf("labels over [%g, %g] = %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
}

// TestNiceTicks: labelled steps of 1, 2 or 5 × 10^k, "0" rather than "-0".
func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   string
	}{
		{0, 75, "0 20 40 60"},
		{-0.3, 5.5, "0 2 4"},
		{0, 1.43, "0.0 0.5 1.0"},
		{-0.07, 0.02, "-0.06 -0.04 -0.02 0.00 0.02"},
	}
	for _, tc := range tests {
		var got []string
		for _, tk := range (niceTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("labels over [%g, %g] = %q, want %q", tc.lo, tc.hi, s, tc.want)
		}
	}
}

// TestFigure7NegativeMarked: a negative RAP carries a mark in its panel and a footnote.
func TestFigure7NegativeMarked(t *testing.T) {
	rows := figureRows(t)
	f, err := Figure7(rows, FigureOptions{DPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	marks, note := 0, false
	for _, text := range svgTexts(f.SVG) {
		if text == negMark {
			marks++
		}
		note = note || strings.HasPrefix(text, "† Negative")
	}
	// VGG11 P-5 at 1e-5 and lenet5 5-bit at 1e-3 are negative.
	if marks != 2 || !note {
		t.Errorf("Figure 7 has %d marks (want 2) and footnote %v", marks, note)
	}
	f, err = Figure7(rows[:1], FigureOptions{DPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(f.SVG, []byte(negMark)) {
		t.Error("Figure 7 without negative RAP has a mark")
	}
}

// TestFigurePaperBeside: the paper's values are drawn beside ours for a model it has, and
// not for one it lacks or when hidden.
func TestFigurePaperBeside(t *testing.T) {
	rows := figureRows(t)
	for _, fn := range []func([]Row, FigureOptions) (Figure, error){Figure5, Figure6, Figure7} {
		with, err := fn(rows, FigureOptions{DPI: 72})
		if err != nil {
			t.Fatal(err)
		}
		without, err := fn(rows, FigureOptions{DPI: 72, HidePaper: true})
		if err != nil {
			t.Fatal(err)
		}
		w, wo := strings.Join(svgTexts(with.SVG), "|"), strings.Join(svgTexts(without.SVG), "|")
		if !strings.Contains(w, "paper (") || strings.Contains(wo, "paper (") {
			t.Errorf("%s: paper legend with %v, without %v", with.Name, strings.Contains(w, "paper ("), strings.Contains(wo, "paper ("))
		}
		if len(with.SVG) <= len(without.SVG) {
			t.Errorf("%s: the paper's values add nothing to the drawing", with.Name)
		}
	}
}

// TestFigurePowersOfTen: with PowersOfTen, BERs and log ticks are powers of ten with a
// superscript exponent (drawn as a separate, raised text), and no e-notation is left.
func TestFigurePowersOfTen(t *testing.T) {
	rows := figureRows(t)
	eNotation := regexp.MustCompile(`[0-9]e[-+]?[0-9]`)
	for _, tc := range []struct {
		fn   func([]Row, FigureOptions) (Figure, error)
		opts FigureOptions
		want []string
	}{
		{Figure5, FigureOptions{}, []string{"BER 3·10", "BER 10", "−4", "−5"}},
		{Figure6, FigureOptions{}, []string{"3·10", "−5", "−2"}},
		{Figure6, FigureOptions{PDrop: metrics.LegacyTable}, []string{"3·10", "−4", "0"}},
		{Figure7, FigureOptions{}, []string{"BER 3·10", "−4"}},
	} {
		tc.opts.DPI, tc.opts.PowersOfTen = 72, true
		f, err := tc.fn(rows, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		texts := svgTexts(f.SVG)
		for _, w := range tc.want {
			if !slices.Contains(texts, w) {
				t.Errorf("%s (P_drop %v) lacks the text %q: %q", f.Name, tc.opts.PDrop, w, texts)
			}
		}
		for _, s := range texts {
			if eNotation.MatchString(s) {
				t.Errorf("%s (P_drop %v): e-notation left in %q", f.Name, tc.opts.PDrop, s)
			}
			if strings.ContainsAny(s, "⁰¹²³⁴⁵⁶⁷⁸⁹⁻") {
				t.Errorf("%s: superscript character drawn as such (the font lacks some) in %q", f.Name, s)
			}
		}
	}
}

// TestFigure5LeavesCodesOut: classic codes (which share memories with P-w and w-bit variants
// and would sit unlabelled on their points) are not drawn in Figure 5, a note names them, and
// the rest of the figure is what it is without them.
func TestFigure5LeavesCodesOut(t *testing.T) {
	rows := figureRows(t)
	code := rows[len(rows)-1]
	code.Variant, code.MemoryBits = "SEC-3", 368820 // P-4's memory.
	withCode := append(append([]Row(nil), rows...), code)
	f, err := Figure5(withCode, FigureOptions{DPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	g, err := Figure5(rows, FigureOptions{DPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Join(svgTexts(f.SVG), "|")
	if !strings.Contains(texts, "Not drawn: the classic codes SEC-3") {
		t.Errorf("no note naming the left-out code in %q", texts)
	}
	if strings.Contains(strings.ReplaceAll(texts, "classic codes SEC-3", ""), "SEC-3") {
		t.Error("SEC-3 appears outside the note (a tick label?)")
	}
	if len(f.SVG) <= len(g.SVG) {
		t.Error("the note is missing from the drawing")
	}
	if got := shortType("SECDED-4"); got != "SECDED-4" {
		t.Errorf("shortType(SECDED-4) = %q", got)
	}
}
