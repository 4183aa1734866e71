package report

import (
	"math"
	"testing"
)

func TestRelativeChange(t *testing.T) {
	st := func(mean, std float64, n int) BERStat {
		return BERStat{BER: 3e-4, VulMean: mean, VulStd: std, Trials: n}
	}
	// A worked example: ā = 5 (s 1), b̄ = 10 (s 2), 10 trials each: Welch df 18, t = 2.100922;
	// Fieller's roots of 98.2344 ρ² − 100 ρ + 24.5586 = 0.
	c, err := RelativeChange(st(5, 1, 10), st(10, 2, 10), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Bounded || math.Abs(c.Pct+50) > 1e-12 || math.Abs(c.Lo+58.623524) > 1e-5 || math.Abs(c.Hi+39.579195) > 1e-5 {
		t.Errorf("RelativeChange(5±1, 10±2) = %+v, want −50 %% [−58.6235, −39.5792]", c)
	}
	// The interval is not symmetric around the estimate, and holds it.
	if !(c.Lo < c.Pct && c.Pct < c.Hi) || math.Abs((c.Pct-c.Lo)-(c.Hi-c.Pct)) < 1e-3 {
		t.Errorf("interval [%g, %g] around %g", c.Lo, c.Hi, c.Pct)
	}
	// No spread at all: a point.
	c, err = RelativeChange(st(2, 0, 5), st(8, 0, 5), 0)
	if err != nil || !c.Bounded || c.Lo != -75 || c.Hi != -75 || c.Pct != -75 {
		t.Errorf("RelativeChange without spread = %+v, %v; want −75 %% [−75, −75]", c, err)
	}
	// A base not distinguishable from 0: unbounded, whatever its mean.
	for _, base := range []BERStat{st(0.45, 0.8, 10), st(0, 0.5, 10)} {
		c, err = RelativeChange(st(0.1, 0.5, 10), base, 0)
		if err != nil || c.Bounded || !math.IsInf(c.Lo, -1) || !math.IsInf(c.Hi, 1) {
			t.Errorf("RelativeChange(…, %+v) = %+v, %v; want unbounded", base, c, err)
		}
	}
	if c.Pct == c.Pct {
		t.Errorf("base mean 0: Pct %g, want NaN", c.Pct)
	}
	// A wider confidence widens the interval.
	c95, _ := RelativeChange(st(5, 1, 10), st(10, 2, 10), 0.95)
	c99, _ := RelativeChange(st(5, 1, 10), st(10, 2, 10), 0.99)
	if !(c99.Lo < c95.Lo && c99.Hi > c95.Hi) {
		t.Errorf("99 %% [%g, %g] not wider than 95 %% [%g, %g]", c99.Lo, c99.Hi, c95.Lo, c95.Hi)
	}
	for _, bad := range [][2]BERStat{{st(1, 1, 1), st(2, 1, 10)}, {st(1, math.NaN(), 10), st(2, 1, 10)}} {
		if _, err := RelativeChange(bad[0], bad[1], 0); err == nil {
			t.Errorf("RelativeChange(%+v, %+v): no error", bad[0], bad[1])
		}
	}
	if _, err := RelativeChange(st(5, 1, 10), st(10, 2, 10), 1); err == nil {
		t.Error("confidence 1: no error")
	}
}

func TestPowerLabel(t *testing.T) {
	for x, want := range map[float64]string{
		1e-5: "10⁻⁵", 3e-4: "3·10⁻⁴", 2.5e-6: "2.5·10⁻⁶", 1: "10⁰", 10: "10¹", 1e-10: "10⁻¹⁰",
		-0.002: "-2·10⁻³", 1506.3: "1.51·10³", 0: "0", math.NaN(): "–", math.Inf(1): "∞",
	} {
		if got := PowerLabel(x); got != want {
			t.Errorf("PowerLabel(%g) = %q, want %q", x, got, want)
		}
	}
	for x, want := range map[float64]string{-6.74e-06: "-6.74·10⁻⁶", 0.0123: "0.0123", 1500: "1.50·10³"} {
		if got := FormatPowerNumber(x); got != want {
			t.Errorf("FormatPowerNumber(%g) = %q, want %q", x, got, want)
		}
	}
}

// TestSupText: a label with superscripts is as wide as its parts (the exponent smaller), and
// a label without is measured exactly as text.Plain measures it.
func TestSupText(t *testing.T) {
	sty := textStyle(10)
	plain := sty
	plain.Handler = supHandler.(supText).Plain
	if got, want := sty.Width("BER 3e-4"), plain.Width("BER 3e-4"); got != want {
		t.Errorf("width without superscripts %v, text.Plain %v", got, want)
	}
	small := textStyle(10 * supScale)
	got, want := sty.Width("3·10⁻⁴"), plain.Width("3·10")+small.Width("−4")
	if math.Abs(float64(got-want)) > 1e-9 {
		t.Errorf("width of 3·10⁻⁴ %v, want %v", got, want)
	}
	if sty.Height("10⁻⁵") != plain.Height("10") {
		t.Errorf("height of 10⁻⁵ %v, want that of 10: %v", sty.Height("10⁻⁵"), plain.Height("10"))
	}
	runs, ok := supRuns("a²b10⁻¹⁹")
	if !ok || len(runs) != 4 || runs[1] != (supRun{"2", true}) || runs[3] != (supRun{"−19", true}) {
		t.Errorf("supRuns = %v, %v", runs, ok)
	}
}
