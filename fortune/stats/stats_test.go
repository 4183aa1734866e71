package stats

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestMeanStdDev(t *testing.T) {
	tests := []struct {
		name      string
		xs        []float64
		mean, std float64
		meanErr   bool
		stdErr    bool
	}{
		{"classic", []float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, math.Sqrt(32.0 / 7), false, false},
		{"two", []float64{1, 3}, 2, math.Sqrt2, false, false},
		{"constant", []float64{7.5, 7.5, 7.5}, 7.5, 0, false, false},
		{"single", []float64{4}, 4, 0, false, true},
		{"empty", nil, 0, 0, true, true},
		{"nan", []float64{1, math.NaN()}, 0, 0, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Mean(tc.xs)
			if (err != nil) != tc.meanErr {
				t.Fatalf("Mean err = %v, want error %v", err, tc.meanErr)
			}
			if err == nil && !near(m, tc.mean, 1e-12) {
				t.Errorf("Mean = %v, want %v", m, tc.mean)
			}
			s, err := StdDev(tc.xs)
			if (err != nil) != tc.stdErr {
				t.Fatalf("StdDev err = %v, want error %v", err, tc.stdErr)
			}
			if err == nil && !near(s, tc.std, 1e-12) {
				t.Errorf("StdDev = %v, want %v", s, tc.std)
			}
		})
	}
	if _, err := Mean(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("Mean(nil) error %v does not wrap ErrEmpty", err)
	}
}

func TestTQuantile(t *testing.T) {
	tests := []struct {
		p, df, want float64
	}{
		{0.975, 19, 2.093024},
		{0.975, 1, 12.706205},
		{0.975, 4, 2.776445},
		{0.95, 10, 1.812461},
		{0.995, 29, 2.756386},
		{0.975, 30, 2.042272},
		{0.025, 19, -2.093024},
		{0.5, 7, 0},
		{0.975, 1e7, 1.959964},
	}
	for _, tc := range tests {
		got, err := TQuantile(tc.p, tc.df)
		if err != nil {
			t.Fatalf("TQuantile(%v, %v): %v", tc.p, tc.df, err)
		}
		if !near(got, tc.want, 1e-6) {
			t.Errorf("TQuantile(%v, %v) = %.7f, want %.6f", tc.p, tc.df, got, tc.want)
		}
	}
	for _, bad := range [][2]float64{{0, 5}, {1, 5}, {0.5, 0}, {0.5, -1}, {math.NaN(), 3}} {
		if _, err := TQuantile(bad[0], bad[1]); err == nil {
			t.Errorf("TQuantile(%v, %v): want error", bad[0], bad[1])
		}
	}
	z, err := ZQuantile(0.975)
	if err != nil || !near(z, 1.959964, 1e-6) {
		t.Errorf("ZQuantile(0.975) = %v, %v; want 1.959964", z, err)
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name       string
		xs         []float64
		conf       float64
		lo, hi, hw float64
		wantErr    bool
	}{
		{"1..5 at 95%", []float64{1, 2, 3, 4, 5}, 0.95, 1.036757, 4.963243, 1.963243, false},
		{"constant", []float64{2, 2, 2, 2}, 0.95, 2, 2, 0, false},
		{"single is infinite", []float64{3}, 0.95, math.Inf(-1), math.Inf(1), math.Inf(1), false},
		{"bad confidence", []float64{1, 2}, 1, 0, 0, 0, true},
		{"empty", nil, 0.95, 0, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Summarize(tc.xs, tc.conf)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			eq := func(a, b float64) bool { return (math.IsInf(b, 0) && a == b) || near(a, b, 1e-6) }
			if !eq(s.Lo, tc.lo) || !eq(s.Hi, tc.hi) || !eq(s.HalfWidth, tc.hw) {
				t.Errorf("CI = [%v, %v] ±%v, want [%v, %v] ±%v", s.Lo, s.Hi, s.HalfWidth, tc.lo, tc.hi, tc.hw)
			}
			lo, hi, err := MeanCI(tc.xs, tc.conf)
			if err != nil || lo != s.Lo || hi != s.Hi {
				t.Errorf("MeanCI = [%v, %v], %v; want Summarize's [%v, %v]", lo, hi, err, s.Lo, s.Hi)
			}
		})
	}
}

func TestWilson(t *testing.T) {
	tests := []struct {
		k, n    int
		conf    float64
		lo, hi  float64
		wantErr bool
	}{
		{0, 10, 0.95, 0, 0.277533, false},
		{5, 10, 0.95, 0.236593, 0.763407, false},
		{8, 10, 0.95, 0.490162, 0.943318, false},
		{10, 10, 0.95, 0.722467, 1, false},
		{11, 10, 0.95, 0, 0, true},
		{0, 0, 0.95, 0, 0, true},
		{1, 2, 0, 0, 0, true},
	}
	for _, tc := range tests {
		lo, hi, err := Wilson(tc.k, tc.n, tc.conf)
		if (err != nil) != tc.wantErr {
			t.Fatalf("Wilson(%d, %d): err = %v, want error %v", tc.k, tc.n, err, tc.wantErr)
		}
		if err == nil && (!near(lo, tc.lo, 1e-6) || !near(hi, tc.hi, 1e-6)) {
			t.Errorf("Wilson(%d, %d) = [%.6f, %.6f], want [%v, %v]", tc.k, tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
}

func TestSampleSize(t *testing.T) {
	tests := []struct {
		name          string
		pop, e, tt, p float64
		want          float64
		ceil          int64
		wantErr       bool
	}{
		{"textbook 10000 at 5%", 10000, 0.05, 1.96, 0.5, 369.98, 370, false},
		{"default p", 10000, 0.05, 1.96, 0, 369.98, 370, false},
		{"infinite-ish population", 1e15, 0.01, 1.96, 0.5, 9604, 9604, false},
		{"population of one", 1, 0.01, 1.96, 0.5, 1, 1, false},
		{"VGG features[0] legacy population", 31 * 1728, 0.01, 1.96, 0.5, 8144.0, 8145, false},
		{"zero population", 0, 0.01, 1.96, 0.5, 0, 0, true},
		{"margin 0", 100, 0, 1.96, 0.5, 0, 0, true},
		{"p = 1", 100, 0.01, 1.96, 1, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SampleSize(tc.pop, tc.e, tc.tt, tc.p)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if !near(got, tc.want, 0.05) {
				t.Errorf("SampleSize = %v, want ≈ %v", got, tc.want)
			}
			c, err := SampleSizeCeil(tc.pop, tc.e, tc.tt, tc.p)
			if err != nil || c != tc.ceil {
				t.Errorf("SampleSizeCeil = %d, %v; want %d", c, err, tc.ceil)
			}
		})
	}
}

func TestLegacySampleSize(t *testing.T) {
	tests := []struct {
		name    string
		weights int64
		want    int64
		wantErr bool
	}{
		{"VGG features[0]", 1728, 814, false},
		{"VGG features[18]", 2359296, 960, false},
		{"VGG classifier[3]", 16777216, 960, false},
		{"ResNet fc", 5120, 905, false},
		{"zero", 0, 0, true},
	}
	for _, tc := range tests {
		got, err := LegacySampleSize(tc.weights)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%s: err = %v, want error %v", tc.name, err, tc.wantErr)
		}
		if got != tc.want {
			t.Errorf("%s: LegacySampleSize(%d) = %d, want %d", tc.name, tc.weights, got, tc.want)
		}
	}
}

func TestStopRule(t *testing.T) {
	noisy := []float64{10, 30, 12, 28, 15, 25}
	tests := []struct {
		name    string
		rule    StopRule
		values  []float64
		stop    bool
		reason  string
		wantErr bool
	}{
		{"no values", StopRule{MinTrials: 3, HalfWidth: 1}, nil, false, "no trials", false},
		{"below minimum even if precise", StopRule{MinTrials: 5, HalfWidth: 1}, []float64{1, 1, 1}, false, "3 of at least 5", false},
		{"precise at minimum", StopRule{MinTrials: 3, HalfWidth: 1}, []float64{1, 1, 1}, true, "≤ target", false},
		{"too noisy", StopRule{MinTrials: 3, HalfWidth: 1}, noisy, false, "> target", false},
		{"noisy but capped", StopRule{MinTrials: 3, MaxTrials: 6, HalfWidth: 1}, noisy, true, "MaxTrials", false},
		{"loose target", StopRule{MinTrials: 3, HalfWidth: 20, Confidence: 0.9}, noisy, true, "≤ target", false},
		{"bad min", StopRule{MinTrials: 1, HalfWidth: 1}, noisy, false, "", true},
		{"bad target", StopRule{MinTrials: 2}, noisy, false, "", true},
		{"max below min", StopRule{MinTrials: 5, MaxTrials: 3, HalfWidth: 1}, noisy, false, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tc.rule.Check(tc.values)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if d.Stop != tc.stop || !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("Check = %v (%q), want %v (%q)", d.Stop, d.Reason, tc.stop, tc.reason)
			}
			// The same values as counts (scale 1, per 1) give the same decision.
			counts := make([]int, len(tc.values))
			for i, v := range tc.values {
				counts[i] = int(v)
			}
			dc, err := tc.rule.CheckCounts(counts, 1, 1)
			if err != nil || dc.Stop != d.Stop || dc.Reason != d.Reason {
				t.Errorf("CheckCounts = %v (%q), %v; want %v (%q)", dc.Stop, dc.Reason, err, d.Stop, d.Reason)
			}
		})
	}
}

// TestSummarizeCounts: statistics of integer count differences are exact where floats are
// not. Accuracy drops of 2, 2 and −4 images out of 9,984 averaged as float percentages give
// 4.7e-15 pp; from the counts the mean is exactly 0.
func TestSummarizeCounts(t *testing.T) {
	const golden, total = 9227, 9984
	acc := func(c int) float64 { return 100 * float64(c) / total }
	lost := []int{2, 2, -4}
	var drops []float64
	for _, d := range lost {
		drops = append(drops, acc(golden)-acc(golden-d))
	}
	m, _ := Mean(drops)
	t.Logf("mean of the float percentages: %g pp", m) // 4.7e-15 on amd64.
	s, err := SummarizeCounts(lost, total, 100, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if s.Mean != 0 || math.Signbit(s.Mean) {
		t.Errorf("mean of %v = %v, want exactly +0", lost, s.Mean)
	}
	f, err := Summarize(drops, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if !near(s.Std, f.Std, 1e-12) || !near(s.HalfWidth, f.HalfWidth, 1e-12) || s.N != 3 || s.T != f.T {
		t.Errorf("SummarizeCounts = %+v, want the spread of Summarize %+v", s, f)
	}
	if s.Lo != -s.HalfWidth || s.Hi != s.HalfWidth {
		t.Errorf("interval [%v, %v] not symmetric about 0 (half-width %v)", s.Lo, s.Hi, s.HalfWidth)
	}

	// Equal counts: no spread at all.
	s, err = SummarizeCounts([]int{3, 3, 3, 3}, total, 100, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if want := 300.0 / total; s.Mean != want || s.Std != 0 || s.HalfWidth != 0 || s.Lo != want || s.Hi != want {
		t.Errorf("equal counts: %+v, want mean %v and a zero-width interval", s, want)
	}
	// A general case agrees with the float route to rounding.
	lost = []int{5, 17, 0, -3, 41, 8}
	drops = drops[:0]
	for _, d := range lost {
		drops = append(drops, 100*float64(d)/total)
	}
	f, _ = Summarize(drops, 0.9)
	s, err = SummarizeCounts(lost, total, 100, 0.9)
	if err != nil || !near(s.Mean, f.Mean, 1e-12) || !near(s.Std, f.Std, 1e-12) || !near(s.Lo, f.Lo, 1e-12) || !near(s.Hi, f.Hi, 1e-12) {
		t.Errorf("SummarizeCounts = %+v, %v; want %+v", s, err, f)
	}
	if s.Mean != 100*68.0/(6*total) {
		t.Errorf("mean %v is not 100·68/(6·%d) rounded once", s.Mean, total)
	}
	// One trial: an infinite interval, as Summarize.
	s, err = SummarizeCounts([]int{4}, total, 100, 0.95)
	if err != nil || s.N != 1 || !math.IsInf(s.HalfWidth, 1) || s.Std != 0 {
		t.Errorf("single count: %+v, %v", s, err)
	}
	for _, bad := range []struct {
		counts []int
		per    int
		scale  float64
		conf   float64
	}{
		{nil, total, 100, 0.95},
		{[]int{1}, 0, 100, 0.95},
		{[]int{1}, total, 0, 0.95},
		{[]int{1}, total, math.Inf(1), 0.95},
		{[]int{1, 2}, total, 100, 1},
	} {
		if _, err := SummarizeCounts(bad.counts, bad.per, bad.scale, bad.conf); err == nil {
			t.Errorf("SummarizeCounts(%v, %d, %v, %v): want error", bad.counts, bad.per, bad.scale, bad.conf)
		}
	}
}
