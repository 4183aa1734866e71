package search

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/internal/enum/enumtest"
)

// synth returns a callback where width w has the given golden accuracy and
// worst-case drop, and counts the calls per width.
func synth(golden, drop map[int]float64, calls map[int]int) Feasible {
	return func(w int) (Point, error) {
		calls[w]++
		g, ok := golden[w]
		if !ok {
			g = 92
		}
		d, ok := drop[w]
		if !ok {
			d = 1
		}
		return Point{Width: -1, Golden: g, WorstDrop: d, WorstBER: 3e-4, MemoryBits: int64(w) * 1000}, nil
	}
}

func widths(ps []Point) []int {
	var ws []int
	for _, p := range ps {
		ws = append(ws, p.Width)
	}
	return ws
}

func TestSearch(t *testing.T) {
	// Feasible iff w ≥ 4 (drop too high below 4).
	monoDrop := map[int]float64{2: 50, 3: 20}
	// Non-monotone: 3 feasible, 4 and 5 not, 6..8 feasible.
	nonMonoDrop := map[int]float64{2: 50, 4: 30, 5: 12}
	// Accuracy-limited: golden ≤ a below 5.
	lowGolden := map[int]float64{2: 10, 3: 80, 4: 89.9}
	tests := []struct {
		name      string
		cfg       Config
		golden    map[int]float64
		drop      map[int]float64
		found     bool
		width     int
		evaluated []int
	}{
		{"monotone exhaustive", Config{M: 2, N: 8, A: 90, B: 10}, nil, monoDrop, true, 4, []int{2, 3, 4}},
		{"monotone binary", Config{M: 2, N: 8, A: 90, B: 10, Mode: Binary}, nil, monoDrop, true, 4, []int{5, 3, 4}},
		{"non-monotone exhaustive", Config{M: 2, N: 8, A: 90, B: 10}, nil, nonMonoDrop, true, 3, []int{2, 3}},
		{"non-monotone binary disagrees", Config{M: 2, N: 8, A: 90, B: 10, Mode: Binary}, nil, nonMonoDrop, true, 6, []int{5, 7, 6}},
		{"accuracy-limited exhaustive", Config{M: 2, N: 8, A: 90, B: 10}, lowGolden, nil, true, 5, []int{2, 3, 4, 5}},
		{"accuracy-limited binary", Config{M: 2, N: 8, A: 90, B: 10, Mode: Binary}, lowGolden, nil, true, 5, []int{5, 3, 4}},
		{"none feasible exhaustive", Config{M: 3, N: 8, A: 99, B: 10}, nil, nil, false, 0, []int{3, 4, 5, 6, 7, 8}},
		{"none feasible binary", Config{M: 3, N: 8, A: 99, B: 10, Mode: Binary}, nil, nil, false, 0, []int{5, 7, 8}},
		{"single width", Config{M: 8, N: 8, A: 90, B: 10}, nil, nil, true, 8, []int{8}},
		{"drop equal to b is infeasible", Config{M: 7, N: 8, A: 90, B: 1}, nil, nil, false, 0, []int{7, 8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := map[int]int{}
			res, err := Search(tc.cfg, synth(tc.golden, tc.drop, calls))
			if err != nil {
				t.Fatal(err)
			}
			if res.Found != tc.found || res.Width != tc.width {
				t.Errorf("result = (%d, found %v), want (%d, found %v)", res.Width, res.Found, tc.width, tc.found)
			}
			if got := widths(res.Points); !reflect.DeepEqual(got, tc.evaluated) {
				t.Errorf("evaluated %v, want %v", got, tc.evaluated)
			}
			for w, n := range calls {
				if n != 1 {
					t.Errorf("width %d evaluated %d times", w, n)
				}
			}
			for _, p := range res.Points {
				if p.Reason == "" {
					t.Errorf("width %d: empty reason", p.Width)
				}
			}
			if p, ok := res.Chosen(); ok != tc.found || (ok && (!p.Feasible || p.Width != tc.width)) {
				t.Errorf("Chosen = %+v, %v", p, ok)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name   string
		p      Point
		ok     bool
		reason string
	}{
		{"feasible", Point{Golden: 92, WorstDrop: 1}, true, "< b"},
		{"golden equal to a", Point{Golden: 90, WorstDrop: 1}, false, "≤ a"},
		{"NaN golden", Point{Golden: math.NaN(), WorstDrop: 1}, false, "≤ a"},
		{"drop not measured", Point{Golden: 92, WorstDrop: math.NaN()}, false, "not measured"},
		{"drop too high", Point{Golden: 92, WorstDrop: 30, WorstBER: 1e-4}, false, "at BER 0.0001"},
	}
	for _, tc := range tests {
		got := Judge(tc.p, 90, 10)
		if got.Feasible != tc.ok || !strings.Contains(got.Reason, tc.reason) {
			t.Errorf("%s: Judge = %v %q, want %v containing %q", tc.name, got.Feasible, got.Reason, tc.ok, tc.reason)
		}
	}
}

// TestConfigThresholds: thresholds no result can meet are rejected, naming the field.
func TestConfigThresholds(t *testing.T) {
	tests := []struct {
		cfg   Config
		field string // "" when valid.
	}{
		{Config{M: 3, N: 8, A: 200, B: 1}, "a"},
		{Config{M: 3, N: 8, A: 100, B: 1}, "a"},
		{Config{M: 3, N: 8, A: -1, B: 1}, "a"},
		{Config{M: 3, N: 8, A: math.Inf(1), B: 1}, "a"},
		{Config{M: 3, N: 8, A: 85, B: 0}, "b"},
		{Config{M: 3, N: 8, A: 85, B: -2}, "b"},
		{Config{M: 3, N: 8, A: 85, B: 101}, "b"},
		{Config{M: 3, N: 8, A: 85, B: math.NaN()}, "b"},
		{Config{M: 9, N: 8, A: 85, B: 1}, "m"},
		{Config{M: 3, N: 8, A: 0, B: 100}, ""},
		{Config{M: 3, N: 8, A: 99.9, B: 0.01}, ""},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		var ce *ConfigError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tc.cfg, err)
		case tc.field != "" && (!errors.As(err, &ce) || ce.Fields[0] != tc.field):
			t.Errorf("%+v: error %v, want a ConfigError on %q", tc.cfg, err, tc.field)
		}
	}
}

func TestSearchErrors(t *testing.T) {
	ok := func(w int) (Point, error) { return Point{Golden: 99}, nil }
	boom := errors.New("boom")
	tests := []struct {
		name string
		cfg  Config
		f    Feasible
		want string
	}{
		{"m below 2", Config{M: 1, N: 8}, ok, "2 ≤ m ≤ n ≤ 8"},
		{"n above 8", Config{M: 3, N: 9}, ok, "2 ≤ m ≤ n ≤ 8"},
		{"m above n", Config{M: 6, N: 5}, ok, "[m=6, n=5]"},
		{"NaN threshold", Config{M: 3, N: 8, A: math.NaN(), B: 1}, ok, "NaN"},
		{"bad mode", Config{M: 3, N: 8, A: 90, B: 1, Mode: 7}, ok, "mode"},
		{"nil callback", Config{M: 3, N: 8, A: 90, B: 1}, nil, "nil"},
		{"callback error", Config{M: 3, N: 8, A: 90, B: 1}, func(int) (Point, error) { return Point{}, boom }, "evaluating width 3: boom"},
	}
	for _, tc := range tests {
		_, err := Search(tc.cfg, tc.f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want containing %q", tc.name, err, tc.want)
		}
	}
	_, err := Search(Config{M: 3, N: 8, A: 90, B: 1}, func(int) (Point, error) { return Point{}, boom })
	if !errors.Is(err, boom) {
		t.Errorf("callback error not wrapped: %v", err)
	}
}

func TestMemoize(t *testing.T) {
	calls := map[int]int{}
	f := Memoize(synth(nil, map[int]float64{2: 50, 3: 20}, calls))
	for _, mode := range []Mode{Exhaustive, Binary, Exhaustive} {
		res, err := Search(Config{M: 2, N: 8, A: 90, B: 10, Mode: mode}, f)
		if err != nil || res.Width != 4 {
			t.Fatalf("%v: width %d, err %v", mode, res.Width, err)
		}
	}
	want := map[int]int{2: 1, 3: 1, 4: 1, 5: 1}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("calls = %v, want %v", calls, want)
	}
}

func TestPaperAlgorithm1(t *testing.T) {
	always := func(float64) bool { return true }
	never := func(float64) bool { return false }
	geq4 := func(bw float64) bool { return bw >= 4 }
	tests := []struct {
		name      string
		cfg       PaperConfig
		pred      func(float64) bool
		firstBWs  []float64
		visited   []int
		leftRange bool
	}{
		{"real always", PaperConfig{M: 3, N: 8, Rounding: Real, MaxIter: 4}, always, []float64{5.5, 4.25, 2.375, -0.4375}, []int{}, true},
		{"real never", PaperConfig{M: 3, N: 8, Rounding: Real, MaxIter: 3}, never, []float64{5.5, 6.75, 7.375}, []int{}, false},
		{"real w≥4", PaperConfig{M: 3, N: 8, Rounding: Real, MaxIter: 4}, geq4, []float64{5.5, 4.25, 2.375, 5.1875}, []int{}, true},
		{"floor always", PaperConfig{M: 3, N: 8, Rounding: Floor, MaxIter: 4}, always, []float64{5, 3, 0, -4}, []int{5, 3, 0, -4}, true},
		{"floor never sticks at 7", PaperConfig{M: 3, N: 8, Rounding: Floor, MaxIter: 50}, never, []float64{5, 6, 7, 7, 7}, []int{5, 6, 7}, false},
		{"floor w≥4 alternates 5↔3", PaperConfig{M: 3, N: 8, Rounding: Floor, MaxIter: 50}, geq4, []float64{5, 3, 5, 3, 5}, []int{5, 3}, false},
		{"m = n", PaperConfig{M: 8, N: 8, Rounding: Floor, MaxIter: 10}, never, []float64{8, 8}, []int{8}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := PaperAlgorithm1(tc.cfg, tc.pred)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Terminated || !tr.DidNotTerminate {
				t.Errorf("terminated = %v, want a non-terminating run", tr.Terminated)
			}
			if len(tr.Steps) != tc.cfg.MaxIter {
				t.Errorf("%d steps, want the cap %d", len(tr.Steps), tc.cfg.MaxIter)
			}
			for i, want := range tc.firstBWs {
				if i >= len(tr.Steps) || tr.Steps[i].BW != want {
					t.Fatalf("step %d bw: got trace %+v, want %v", i, tr.Steps, tc.firstBWs)
				}
			}
			bothEmpty := len(tc.visited) == 0 && len(tr.Visited) == 0
			if !bothEmpty && !reflect.DeepEqual(tr.Visited, tc.visited) {
				t.Errorf("visited %v, want %v", tr.Visited, tc.visited)
			}
			if tr.LeftRange != tc.leftRange {
				t.Errorf("LeftRange = %v, want %v", tr.LeftRange, tc.leftRange)
			}
		})
	}
}

// TestPaperAlgorithm1NeverStops checks docs/method.md §9.1 defect 3: with m=3, n=8 the
// printed algorithm stops in none of {real, floor} × {always, never, w ≥ 4},
// and with floor rounding it never evaluates the answer 4 (or 8).
func TestPaperAlgorithm1NeverStops(t *testing.T) {
	preds := map[string]func(float64) bool{
		"always": func(float64) bool { return true },
		"never":  func(float64) bool { return false },
		"w≥4":    func(bw float64) bool { return bw >= 4 },
	}
	for _, r := range []Rounding{Real, Floor} {
		for name, p := range preds {
			tr, err := PaperAlgorithm1(PaperConfig{M: 3, N: 8, Rounding: r, MaxIter: 1000}, p)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Terminated {
				t.Errorf("%v/%s terminated after %d steps", r, name, len(tr.Steps))
			}
			if r == Floor && name != "always" {
				for _, w := range tr.Visited {
					if (name == "w≥4" && w == 4) || (name == "never" && w == 8) {
						t.Errorf("%v/%s visited %d", r, name, w)
					}
				}
			}
		}
	}
	if _, err := PaperAlgorithm1(PaperConfig{M: 5, N: 3}, preds["never"]); err == nil {
		t.Error("m > n: want error")
	}
	if _, err := PaperAlgorithm1(PaperConfig{M: 3, N: 5}, nil); err == nil {
		t.Error("nil predicate: want error")
	}
}

// TestModeRoundingText: Mode's and Rounding's names round-trip (enumtest.Check).
func TestModeRoundingText(t *testing.T) {
	enumtest.Check(t, []Mode{Exhaustive, Binary}, ParseMode)
	enumtest.Check(t, []Rounding{Real, Floor}, ParseRounding)
}
