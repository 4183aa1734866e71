// Package stats holds the statistics used to summarise fault-injection
// campaigns: mean, sample standard deviation, Student-t confidence intervals of
// the mean, Wilson intervals for proportions, the Leveugle et al. (DATE 2009)
// sample-size planner (and the FORTUNE authors' discarded variant of it), and a
// sequential stopping rule based on the confidence-interval half-width.
//
// See docs/method.md §8.3 for how the original code used (and discarded) these numbers.
package stats

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"gonum.org/v1/gonum/stat/distuv"
)

// DefaultConfidence is the confidence level used throughout the project (95 %).
const DefaultConfidence = 0.95

// ErrEmpty is returned when a statistic is asked of an empty sample.
var ErrEmpty = errors.New("stats: empty sample")

// ErrTooFew is returned when a statistic needs at least two observations.
var ErrTooFew = errors.New("stats: need at least two observations")

// Mean returns the arithmetic mean of xs. It fails on an empty sample or on a
// non-finite value.
func Mean(xs []float64) (float64, error) {
	if len(xs) == 0 {
		return 0, fmt.Errorf("mean: %w", ErrEmpty)
	}
	sum := 0.0
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("mean: value %d is not finite (%v)", i, x)
		}
		sum += x
	}
	return sum / float64(len(xs)), nil
}

// StdDev returns the sample standard deviation of xs (denominator n−1).
// It needs at least two observations.
func StdDev(xs []float64) (float64, error) {
	if len(xs) < 2 {
		return 0, fmt.Errorf("sample standard deviation of %d values: %w", len(xs), ErrTooFew)
	}
	m, err := Mean(xs)
	if err != nil {
		return 0, fmt.Errorf("sample standard deviation: %w", err)
	}
	ss := 0.0
	for _, x := range xs {
		d := x - m
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(xs)-1)), nil
}

func checkConfidence(confidence float64) error {
	if !(confidence > 0 && confidence < 1) {
		return fmt.Errorf("confidence %v outside (0, 1)", confidence)
	}
	return nil
}

// TQuantile returns the p-quantile of Student's t distribution with df degrees
// of freedom (exact, via the regularized incomplete beta function), e.g.
// TQuantile(0.975, 19) = 2.093024.
func TQuantile(p, df float64) (float64, error) {
	if !(p > 0 && p < 1) {
		return 0, fmt.Errorf("t quantile: probability %v outside (0, 1)", p)
	}
	if !(df > 0) || math.IsInf(df, 0) {
		return 0, fmt.Errorf("t quantile: degrees of freedom %v must be positive and finite", df)
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p), nil
}

// ZQuantile returns the p-quantile of the standard normal distribution, e.g.
// ZQuantile(0.975) = 1.959964.
func ZQuantile(p float64) (float64, error) {
	if !(p > 0 && p < 1) {
		return 0, fmt.Errorf("normal quantile: probability %v outside (0, 1)", p)
	}
	return distuv.UnitNormal.Quantile(p), nil
}

// Summary describes a sample of trial values (e.g. accuracy drops in pp).
type Summary struct {
	// N is the number of observations.
	N int
	// Mean is the sample mean.
	Mean float64
	// Std is the sample standard deviation (n−1); 0 when N == 1.
	Std float64
	// StdErr is Std/sqrt(N); +Inf when N == 1.
	StdErr float64
	// Confidence is the two-sided confidence level of the interval.
	Confidence float64
	// T is the Student-t critical value t_{(1+Confidence)/2, N−1}; +Inf when N == 1.
	T float64
	// HalfWidth is T·StdErr; +Inf when N == 1.
	HalfWidth float64
	// Lo and Hi bound the confidence interval of the mean (±Inf when N == 1).
	Lo, Hi float64
}

// Summarize computes mean, sample standard deviation and the Student-t
// confidence interval of the mean at the given confidence level (e.g. 0.95).
// A single observation yields an infinite interval rather than an error, so
// that stopping rules can be applied from the first trial on.
func Summarize(xs []float64, confidence float64) (Summary, error) {
	if err := checkConfidence(confidence); err != nil {
		return Summary{}, fmt.Errorf("summarize: %w", err)
	}
	m, err := Mean(xs)
	if err != nil {
		return Summary{}, fmt.Errorf("summarize: %w", err)
	}
	s := Summary{N: len(xs), Mean: m, Confidence: confidence}
	if len(xs) == 1 {
		inf := math.Inf(1)
		s.StdErr, s.T, s.HalfWidth, s.Lo, s.Hi = inf, inf, inf, math.Inf(-1), inf
		return s, nil
	}
	if s.Std, err = StdDev(xs); err != nil {
		return Summary{}, fmt.Errorf("summarize: %w", err)
	}
	if s.T, err = TQuantile((1+confidence)/2, float64(len(xs)-1)); err != nil {
		return Summary{}, fmt.Errorf("summarize: %w", err)
	}
	s.StdErr = s.Std / math.Sqrt(float64(len(xs)))
	s.HalfWidth = s.T * s.StdErr
	s.Lo, s.Hi = m-s.HalfWidth, m+s.HalfWidth
	return s, nil
}

// SummarizeCounts is Summarize for values given as integer counts: the i-th
// value is scale·counts[i]/per, e.g. the accuracy drop in percentage points of
// a trial that lost counts[i] of per correct predictions (scale 100). The sums
// are formed in exact integer arithmetic before any division, so counts that
// sum to zero give a mean of exactly 0 (never a float residue such as 2.8e-15),
// equal counts give a standard deviation and half-width of exactly 0, and the
// mean is scale·Σcounts/(N·per) rounded once (when scale·Σcounts is exact, as
// for an integer scale such as 100).
func SummarizeCounts(counts []int, per int, scale, confidence float64) (Summary, error) {
	switch {
	case len(counts) == 0:
		return Summary{}, fmt.Errorf("summarize counts: %w", ErrEmpty)
	case per <= 0:
		return Summary{}, fmt.Errorf("summarize counts: denominator %d must be positive", per)
	case !(scale > 0) || math.IsInf(scale, 0):
		return Summary{}, fmt.Errorf("summarize counts: scale %v must be positive and finite", scale)
	}
	if err := checkConfidence(confidence); err != nil {
		return Summary{}, fmt.Errorf("summarize counts: %w", err)
	}
	n := int64(len(counts))
	sum, sumSq := new(big.Int), new(big.Int)
	for _, c := range counts {
		x := big.NewInt(int64(c))
		sum.Add(sum, x)
		sumSq.Add(sumSq, x.Mul(x, x))
	}
	// mean = scale·sum/(n·per): the quotient of two exact values, rounded once.
	sumf, _ := new(big.Float).SetInt(sum).Float64()
	s := Summary{N: len(counts), Mean: scale * sumf / (float64(n) * float64(per)), Confidence: confidence}
	if n == 1 {
		inf := math.Inf(1)
		s.StdErr, s.T, s.HalfWidth, s.Lo, s.Hi = inf, inf, inf, math.Inf(-1), inf
		return s, nil
	}
	// Σ(x−x̄)² = (n·Σx² − (Σx)²)/n, exact in integers.
	ss := new(big.Int).Mul(big.NewInt(n), sumSq)
	ss.Sub(ss, new(big.Int).Mul(sum, sum))
	ssf, _ := new(big.Float).SetInt(ss).Float64()
	s.Std = scale / float64(per) * math.Sqrt(ssf/(float64(n)*float64(n-1)))
	var err error
	if s.T, err = TQuantile((1+confidence)/2, float64(n-1)); err != nil {
		return Summary{}, fmt.Errorf("summarize counts: %w", err)
	}
	s.StdErr = s.Std / math.Sqrt(float64(n))
	s.HalfWidth = s.T * s.StdErr
	s.Lo, s.Hi = s.Mean-s.HalfWidth, s.Mean+s.HalfWidth
	return s, nil
}

// MeanCI returns the Student-t confidence interval of the mean of xs.
func MeanCI(xs []float64, confidence float64) (lo, hi float64, err error) {
	s, err := Summarize(xs, confidence)
	if err != nil {
		return 0, 0, fmt.Errorf("mean confidence interval: %w", err)
	}
	return s.Lo, s.Hi, nil
}

// Wilson returns the Wilson score interval for a proportion with the given
// number of successes out of n trials (e.g. correctly classified images).
func Wilson(successes, n int, confidence float64) (lo, hi float64, err error) {
	if n <= 0 {
		return 0, 0, fmt.Errorf("wilson interval: n = %d must be positive", n)
	}
	if successes < 0 || successes > n {
		return 0, 0, fmt.Errorf("wilson interval: successes %d outside [0, %d]", successes, n)
	}
	if err := checkConfidence(confidence); err != nil {
		return 0, 0, fmt.Errorf("wilson interval: %w", err)
	}
	z, err := ZQuantile((1 + confidence) / 2)
	if err != nil {
		return 0, 0, fmt.Errorf("wilson interval: %w", err)
	}
	nf := float64(n)
	p := float64(successes) / nf
	z2 := z * z
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lo, hi = math.Max(0, center-half), math.Min(1, center+half)
	if successes == 0 {
		lo = 0
	}
	if successes == n {
		hi = 1
	}
	return lo, hi, nil
}

// SampleSize is the Leveugle et al. (DATE 2009) statistical fault-injection
// sample size n = N / (1 + e²(N−1)/(t²·p(1−p))) for a population of N possible
// faults, error margin e (e.g. 0.01), confidence cut-off t (1.96 for 95 %) and
// estimated proportion p (0.5 is the conservative default; pass 0 to use it).
// The result is real-valued; SampleSizeCeil rounds it up.
//
// It is informational only: no campaign uses it. It counts single-fault
// injections drawn from a population of possible faults, whereas a FORTUNE
// trial injects F = ⌊BER·n⌋ faults at once and measures an accuracy drop, so it
// does not give a number of trials (the authors' code computes and discards it
// too, docs/method.md §8.3). Campaigns run a fixed number of trials (--trials) or stop on a
// confidence-interval half-width (--half-width, StopRule).
func SampleSize(population, margin, t, p float64) (float64, error) {
	if p == 0 {
		p = 0.5
	}
	switch {
	case !(population >= 1) || math.IsInf(population, 0):
		return 0, fmt.Errorf("leveugle sample size: population %v must be finite and ≥ 1", population)
	case !(margin > 0 && margin < 1):
		return 0, fmt.Errorf("leveugle sample size: margin %v outside (0, 1)", margin)
	case !(t > 0) || math.IsInf(t, 0):
		return 0, fmt.Errorf("leveugle sample size: t %v must be positive and finite", t)
	case !(p > 0 && p < 1):
		return 0, fmt.Errorf("leveugle sample size: p %v outside (0, 1)", p)
	}
	return population / (1 + margin*margin*(population-1)/(t*t*p*(1-p))), nil
}

// SampleSizeCeil is SampleSize rounded up to a whole number of injections.
func SampleSizeCeil(population, margin, t, p float64) (int64, error) {
	n, err := SampleSize(population, margin, t, p)
	if err != nil {
		return 0, err
	}
	// Guard against 4899.000000001-style float noise before rounding up.
	return int64(math.Ceil(n - 1e-9)), nil
}

// LegacySampleSize reproduces the sample size that the FORTUNE authors' fault
// injector computes per layer and then discards (docs/method.md §8.3): population
// 31 × layerWeights, e = 0.01, t = 1.96, p = 0.5, then floor(0.1·n).
// It yields 814 for VGG-11 features[0] (1,728 weights) and 960 for large
// layers. It is reported for comparison only.
func LegacySampleSize(layerWeights int64) (int64, error) {
	if layerWeights <= 0 {
		return 0, fmt.Errorf("legacy sample size: layer weights %d must be positive", layerWeights)
	}
	n, err := SampleSize(31*float64(layerWeights), 0.01, 1.96, 0.5)
	if err != nil {
		return 0, fmt.Errorf("legacy sample size: %w", err)
	}
	return int64(math.Floor(0.1 * n)), nil
}

// StopRule is a sequential stopping rule for a campaign: stop once at least
// MinTrials values are in and the confidence-interval half-width of their mean
// is at most HalfWidth (absolute, same unit as the values), or once MaxTrials
// values are in (MaxTrials ≤ 0 means no cap).
type StopRule struct {
	// MinTrials is the minimum number of trials before stopping (at least 2).
	MinTrials int
	// MaxTrials caps the campaign; ≤ 0 means no cap.
	MaxTrials int
	// HalfWidth is the target CI half-width (e.g. 1.0 pp).
	HalfWidth float64
	// Confidence is the CI level; 0 means DefaultConfidence.
	Confidence float64
}

// Decision is the outcome of StopRule.Check.
type Decision struct {
	// Stop reports whether the campaign may stop.
	Stop bool
	// Reason says why, in words.
	Reason string
	// Summary is the summary of the values seen so far.
	Summary Summary
}

// Validate checks the rule's parameters.
func (r StopRule) Validate() error {
	if r.MinTrials < 2 {
		return fmt.Errorf("stop rule: MinTrials %d must be ≥ 2", r.MinTrials)
	}
	if r.MaxTrials > 0 && r.MaxTrials < r.MinTrials {
		return fmt.Errorf("stop rule: MaxTrials %d below MinTrials %d", r.MaxTrials, r.MinTrials)
	}
	if !(r.HalfWidth > 0) {
		return fmt.Errorf("stop rule: target half-width %v must be positive", r.HalfWidth)
	}
	if r.Confidence != 0 {
		if err := checkConfidence(r.Confidence); err != nil {
			return fmt.Errorf("stop rule: %w", err)
		}
	}
	return nil
}

// Check decides whether the campaign that produced values may stop.
func (r StopRule) Check(values []float64) (Decision, error) {
	return r.check(len(values), func(conf float64) (Summary, error) { return Summarize(values, conf) })
}

// CheckCounts is Check for values given as integer counts, value i being
// scale·counts[i]/per (see SummarizeCounts): the decision rests on exact sums,
// so e.g. identical counts give a half-width of exactly 0.
func (r StopRule) CheckCounts(counts []int, per int, scale float64) (Decision, error) {
	return r.check(len(counts), func(conf float64) (Summary, error) { return SummarizeCounts(counts, per, scale, conf) })
}

func (r StopRule) check(n int, summarize func(confidence float64) (Summary, error)) (Decision, error) {
	if err := r.Validate(); err != nil {
		return Decision{}, err
	}
	conf := r.Confidence
	if conf == 0 {
		conf = DefaultConfidence
	}
	if n == 0 {
		return Decision{Reason: fmt.Sprintf("no trials yet (minimum %d)", r.MinTrials)}, nil
	}
	s, err := summarize(conf)
	if err != nil {
		return Decision{}, fmt.Errorf("stop rule: %w", err)
	}
	d := Decision{Summary: s}
	switch {
	case s.N >= r.MinTrials && s.HalfWidth <= r.HalfWidth:
		d.Stop = true
		d.Reason = fmt.Sprintf("half-width %.4g ≤ target %.4g after %d trials", s.HalfWidth, r.HalfWidth, s.N)
	case r.MaxTrials > 0 && s.N >= r.MaxTrials:
		d.Stop = true
		d.Reason = fmt.Sprintf("reached MaxTrials %d with half-width %.4g > target %.4g", r.MaxTrials, s.HalfWidth, r.HalfWidth)
	case s.N < r.MinTrials:
		d.Reason = fmt.Sprintf("%d of at least %d trials", s.N, r.MinTrials)
	default:
		d.Reason = fmt.Sprintf("half-width %.4g > target %.4g after %d trials", s.HalfWidth, r.HalfWidth, s.N)
	}
	return d, nil
}
