// Package search implements the bit-width search of the FORTUNE paper
// (Algorithm 1) in the corrected, terminating form of docs/method.md §9.2: find the
// smallest width w in [m, n] whose golden accuracy exceeds a and whose
// worst-case accuracy drop over the BERs stays below b. It also simulates the
// algorithm exactly as printed (PaperAlgorithm1) to exhibit its defects.
package search

import (
	"errors"
	"fmt"
	"math"

	"github.com/fortune-go/fortune/internal/enum"
)

// MinWidth and MaxWidth bound the searchable widths (int8 storage).
const (
	MinWidth = 2
	MaxWidth = 8
)

// Point is one evaluated width.
type Point struct {
	// Width is the data bit width w.
	Width int
	// Variant names the evaluated storage variant (e.g. "P-4", "8-bit"); optional.
	Variant string
	// Golden is the fault-free accuracy (%).
	Golden float64
	// WorstDrop is the largest mean accuracy drop (pp) over the BERs; NaN if
	// not measured (the callback may skip fault injection when Golden ≤ a).
	WorstDrop float64
	// WorstBER is the BER at which WorstDrop occurred (0 if unknown).
	WorstBER float64
	// MemoryBits is the memory utilization of the variant (bits).
	MemoryBits int64
	// Time is the execution time of the variant (caller's unit, e.g. % of 8-bit).
	Time float64
	// Feasible is set by the search: Golden > a and WorstDrop < b.
	Feasible bool
	// Reason explains Feasible, set by the search.
	Reason string
}

// Feasible evaluates width w: it quantizes, measures golden accuracy and, when
// the golden accuracy passes threshold a, the worst-case drop over BERs. The
// search fills Point.Feasible and Point.Reason from the thresholds and calls
// it at most once per width.
type Feasible func(w int) (Point, error)

// Mode selects the search strategy.
type Mode int

const (
	// Exhaustive evaluates m, m+1, … and returns the first feasible width
	// (≤ n−m+1 evaluations, no monotonicity assumption). The default.
	Exhaustive Mode = iota
	// Binary assumes feasibility is monotone non-decreasing in w and
	// bisects (≤ ceil(log2(n−m+2)) evaluations).
	Binary
)

// modes names the modes, in value order.
var modes = enum.New[Mode]("Mode", "search: unknown mode", "exhaustive", "binary")

// String returns the mode's name.
func (m Mode) String() string { return modes.String(m) }

// ParseMode reads a mode's name: "exhaustive" or "binary".
func ParseMode(s string) (Mode, error) { return modes.Parse(s) }

// MarshalText returns the mode's name.
func (m Mode) MarshalText() ([]byte, error) { return modes.MarshalText(m) }

// UnmarshalText reads a mode's name, as ParseMode.
func (m *Mode) UnmarshalText(b []byte) error { return modes.UnmarshalText(m, b) }

// Config holds the search range, the thresholds and the mode.
type Config struct {
	// M and N bound the range [m, n]; 2 ≤ m ≤ n ≤ 8.
	M, N int
	// A is the accuracy threshold: golden accuracy must exceed it (%, in [0, 100)).
	A float64
	// B is the reliability threshold: worst-case drop must be below it (pp, in (0, 100]).
	B float64
	// Mode is Exhaustive (default) or Binary.
	Mode Mode
}

// ConfigError is the error of Config.Validate: it names the offending fields.
type ConfigError struct {
	// Fields are the Config fields at fault, in lower case as the paper names them: "m" and
	// "n", "a", "b" or "mode".
	Fields []string
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *ConfigError) Error() string { return e.Msg }

// Validate checks the range, the thresholds and the mode. A threshold that no result can meet
// is an error rather than a search that finds nothing: the golden accuracy must exceed a, so
// a < 100, and a worst-case drop must stay below b, so b > 0 (b > 100 would accept anything,
// so b ≤ 100). Errors are *ConfigError.
func (c Config) Validate() error {
	if c.M < MinWidth || c.N > MaxWidth || c.M > c.N {
		return &ConfigError{[]string{"m", "n"},
			fmt.Sprintf("search range [m=%d, n=%d] invalid: need %d ≤ m ≤ n ≤ %d", c.M, c.N, MinWidth, MaxWidth)}
	}
	if !(c.A >= 0 && c.A < 100) {
		return &ConfigError{[]string{"a"},
			fmt.Sprintf("accuracy threshold a = %v outside [0, 100): the golden accuracy (%%) must exceed it", c.A)}
	}
	if !(c.B > 0 && c.B <= 100) {
		return &ConfigError{[]string{"b"},
			fmt.Sprintf("reliability threshold b = %v outside (0, 100]: the worst-case accuracy drop (pp) must stay below it", c.B)}
	}
	if c.Mode != Exhaustive && c.Mode != Binary {
		return &ConfigError{[]string{"mode"}, fmt.Sprintf("search mode %v unknown", c.Mode)}
	}
	return nil
}

// Result is the outcome of Search.
type Result struct {
	// Width is the chosen width, valid only when Found.
	Width int
	// Found reports whether some width in range is feasible.
	Found bool
	// Points lists every evaluated width in evaluation order.
	Points []Point
	// Mode is the strategy used.
	Mode Mode
}

// Chosen returns the point of the chosen width.
func (r Result) Chosen() (Point, bool) {
	if !r.Found {
		return Point{}, false
	}
	for _, p := range r.Points {
		if p.Width == r.Width {
			return p, true
		}
	}
	return Point{}, false
}

// ErrNilFeasible is returned when Search is given no callback.
var ErrNilFeasible = errors.New("search: nil Feasible callback")

// Judge sets p.Feasible and p.Reason from thresholds a and b.
func Judge(p Point, a, b float64) Point {
	switch {
	case math.IsNaN(p.Golden) || !(p.Golden > a):
		p.Feasible = false
		p.Reason = fmt.Sprintf("golden accuracy %.4g ≤ a = %.4g", p.Golden, a)
	case math.IsNaN(p.WorstDrop):
		p.Feasible = false
		p.Reason = "worst-case drop not measured"
	case !(p.WorstDrop < b):
		p.Feasible = false
		p.Reason = fmt.Sprintf("worst-case drop %.4g ≥ b = %.4g", p.WorstDrop, b)
		if p.WorstBER > 0 {
			p.Reason += fmt.Sprintf(" (at BER %g)", p.WorstBER)
		}
	default:
		p.Feasible = true
		p.Reason = fmt.Sprintf("golden %.4g > a = %.4g and worst-case drop %.4g < b = %.4g", p.Golden, a, p.WorstDrop, b)
	}
	return p
}

// Search runs the corrected Algorithm 1 (docs/method.md §9.2) with the given callback.
func Search(cfg Config, f Feasible) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if f == nil {
		return Result{}, ErrNilFeasible
	}
	res := Result{Mode: cfg.Mode}
	memo := map[int]Point{}
	eval := func(w int) (bool, error) {
		if p, ok := memo[w]; ok {
			return p.Feasible, nil
		}
		p, err := f(w)
		if err != nil {
			return false, fmt.Errorf("search: evaluating width %d: %w", w, err)
		}
		p.Width = w
		p = Judge(p, cfg.A, cfg.B)
		memo[w] = p
		res.Points = append(res.Points, p)
		return p.Feasible, nil
	}
	switch cfg.Mode {
	case Exhaustive:
		for w := cfg.M; w <= cfg.N; w++ {
			ok, err := eval(w)
			if err != nil {
				return res, err
			}
			if ok {
				res.Width, res.Found = w, true
				return res, nil
			}
		}
	case Binary:
		lo, hi := cfg.M, cfg.N
		for lo <= hi {
			mid := (lo + hi) / 2
			ok, err := eval(mid)
			if err != nil {
				return res, err
			}
			if ok {
				res.Width, res.Found = mid, true
				hi = mid - 1
			} else {
				lo = mid + 1
			}
		}
	}
	return res, nil
}

// Memoize wraps f so that each width is evaluated at most once across calls
// (e.g. when running both modes on the same model). It is not safe for
// concurrent use.
func Memoize(f Feasible) Feasible {
	type entry struct {
		p   Point
		err error
	}
	cache := map[int]entry{}
	return func(w int) (Point, error) {
		if e, ok := cache[w]; ok {
			return e.p, e.err
		}
		p, err := f(w)
		cache[w] = entry{p, err}
		return p, err
	}
}
