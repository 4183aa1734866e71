package report

import (
	"fmt"
	"math"

	"github.com/fortune-go/fortune/fortune/stats"
)

// Change is the relative change of one mean vulnerability against another's, such as the
// paper's "56 % lower vulnerability than 8-bit" (AlexNet P-3 against 8-bit at BER 3e-4,
// docs/method.md §10.9), with its confidence interval.
type Change struct {
	// Pct is 100·(a/base − 1), in %: −56 for a vulnerability 56 % lower than the base's. NaN
	// when the base's mean is 0.
	Pct float64
	// Lo and Hi bound the interval of Pct; −Inf and +Inf when it is unbounded.
	Lo, Hi float64
	// Bounded is false when the base's mean is not distinguishable from 0 at the confidence
	// (Fieller's interval is then not a finite range: the ratio can be arbitrarily large).
	Bounded bool
}

// RelativeChange compares the mean vulnerability of a with that of base (100·(a/base − 1) %)
// from the statistics of their trials (mean, sample standard deviation, count; independent
// trials), with Fieller's confidence interval of the ratio of two independent means at the
// given confidence (0 → 95 %): the ratios ρ with (ā − ρ·b̄)² ≤ t²·(s_a²/n_a + ρ²·s_b²/n_b),
// t the Student-t quantile with the Welch–Satterthwaite degrees of freedom of ā − ρ̂·b̄ (the
// normal quantile when both samples have no spread). Each side needs at least two trials.
func RelativeChange(a, base BERStat, confidence float64) (Change, error) {
	if confidence == 0 {
		confidence = stats.DefaultConfidence
	}
	if !(confidence > 0 && confidence < 1) {
		return Change{}, fmt.Errorf("relative change: confidence %v outside (0, 1)", confidence)
	}
	for _, s := range []BERStat{a, base} {
		if s.Trials < 2 || !finite(s.VulMean) || !finite(s.VulStd) {
			return Change{}, fmt.Errorf("relative change at BER %g: need the mean and standard deviation of at least 2 trials (have %d)", s.BER, s.Trials)
		}
	}
	ma, mb := a.VulMean, base.VulMean
	va, vb := a.VulStd*a.VulStd/float64(a.Trials), base.VulStd*base.VulStd/float64(base.Trials)
	c := Change{Pct: nan, Lo: math.Inf(-1), Hi: math.Inf(1)}
	if mb != 0 {
		c.Pct = 100 * (ma/mb - 1)
	}
	// Degrees of freedom at the point estimate (at ρ̂ = 0 when it is undefined).
	rho := 0.0
	if mb != 0 {
		rho = ma / mb
	}
	ea, eb := va, rho*rho*vb
	var t float64
	var err error
	p := 1 - (1-confidence)/2
	if den := ea*ea/float64(a.Trials-1) + eb*eb/float64(base.Trials-1); den > 0 {
		t, err = stats.TQuantile(p, (ea+eb)*(ea+eb)/den)
	} else {
		t, err = stats.ZQuantile(p)
	}
	if err != nil {
		return Change{}, fmt.Errorf("relative change: %w", err)
	}
	// (ā − ρ b̄)² − t²(v_a + ρ² v_b) ≤ 0  ⇔  A ρ² + B ρ + C ≤ 0.
	t2 := t * t
	A, B, C := mb*mb-t2*vb, -2*ma*mb, ma*ma-t2*va
	if !(A > 0) {
		return c, nil // b̄'s interval holds 0: the set of ratios is not a finite range.
	}
	d := math.Sqrt(math.Max(B*B-4*A*C, 0)) // ≥ 0 when A > 0: ρ̂ satisfies the inequality.
	r1, r2 := (-B-d)/(2*A), (-B+d)/(2*A)
	c.Lo, c.Hi, c.Bounded = 100*(r1-1), 100*(r2-1), true
	return c, nil
}
