package search

import (
	"fmt"
	"math"

	"github.com/fortune-go/fortune/internal/enum"
)

// Rounding selects how PaperAlgorithm1 treats the non-integer bw.
type Rounding int

const (
	// Real keeps bw real-valued, as printed.
	Real Rounding = iota
	// Floor floors bw after its initialisation and after every update.
	Floor
)

// roundings names the roundings, in value order.
var roundings = enum.New[Rounding]("Rounding", "search: unknown rounding", "real", "floor")

// String returns the rounding's name.
func (r Rounding) String() string { return roundings.String(r) }

// ParseRounding reads a rounding's name: "real" or "floor".
func ParseRounding(s string) (Rounding, error) { return roundings.Parse(s) }

// MarshalText returns the rounding's name.
func (r Rounding) MarshalText() ([]byte, error) { return roundings.MarshalText(r) }

// UnmarshalText reads a rounding's name, as ParseRounding.
func (r *Rounding) UnmarshalText(b []byte) error { return roundings.UnmarshalText(r, b) }

// PaperConfig configures PaperAlgorithm1.
type PaperConfig struct {
	// M and N are the printed range bounds.
	M, N int
	// Rounding is Real (default) or Floor.
	Rounding Rounding
	// MaxIter caps the loop (the printed algorithm need not terminate);
	// ≤ 0 means 100.
	MaxIter int
}

// PaperStep is one pass of the printed loop.
type PaperStep struct {
	// Iter counts passes from 0.
	Iter int
	// BW is the bit width evaluated in this pass (real-valued unless Floor).
	BW float64
	// InRange reports m ≤ BW ≤ n.
	InRange bool
	// Feasible is the predicate's answer at BW.
	Feasible bool
	// Next is bw after the update.
	Next float64
}

// PaperTrace is the outcome of PaperAlgorithm1.
type PaperTrace struct {
	// Steps lists every pass in order.
	Steps []PaperStep
	// Terminated reports that "bw > n" became true within the cap.
	Terminated bool
	// DidNotTerminate is !Terminated: the cap was hit.
	DidNotTerminate bool
	// Visited lists the distinct integer widths evaluated (Floor) or the
	// distinct widths that equal an integer (Real), in first-visit order.
	Visited []int
	// LeftRange reports that some evaluated bw was outside [m, n].
	LeftRange bool
}

// PaperAlgorithm1 simulates Algorithm 1 exactly as printed in the paper
// (docs/method.md §9.1): bw ← (n+m)/2; loop { if feasible(bw) { bw ← bw − (n−bw)/2 } else
// { bw ← bw + (n−bw)/2 }; stop when bw > n }. The feasibility predicate
// stands for "accuracy > a and accuracy_drop < b" (defect 1 — testing values
// not yet computed — is abstracted away). It returns the visited trace; with
// m=3, n=8 it never terminates, and with Floor rounding and "feasible iff
// w ≥ 4" it alternates 5 ↔ 3 and never evaluates 4.
func PaperAlgorithm1(cfg PaperConfig, feasible func(bw float64) bool) (PaperTrace, error) {
	if cfg.M > cfg.N {
		return PaperTrace{}, fmt.Errorf("paper algorithm 1: m = %d > n = %d", cfg.M, cfg.N)
	}
	if feasible == nil {
		return PaperTrace{}, fmt.Errorf("paper algorithm 1: nil feasibility predicate")
	}
	if cfg.Rounding != Real && cfg.Rounding != Floor {
		return PaperTrace{}, fmt.Errorf("paper algorithm 1: unknown rounding %v", cfg.Rounding)
	}
	maxIter := cfg.MaxIter
	if maxIter <= 0 {
		maxIter = 100
	}
	round := func(x float64) float64 {
		if cfg.Rounding == Floor {
			return math.Floor(x)
		}
		return x
	}
	m, n := float64(cfg.M), float64(cfg.N)
	var tr PaperTrace
	seen := map[int]bool{}
	bw := round((n + m) / 2)
	for it := 0; it < maxIter; it++ {
		st := PaperStep{Iter: it, BW: bw, InRange: bw >= m && bw <= n, Feasible: feasible(bw)}
		if !st.InRange {
			tr.LeftRange = true
		}
		if bw == math.Trunc(bw) && math.Abs(bw) < 1<<31 && !seen[int(bw)] {
			seen[int(bw)] = true
			tr.Visited = append(tr.Visited, int(bw))
		}
		if st.Feasible {
			bw = round(bw - (n-bw)/2)
		} else {
			bw = round(bw + (n-bw)/2)
		}
		st.Next = bw
		tr.Steps = append(tr.Steps, st)
		if bw > n {
			tr.Terminated = true
			return tr, nil
		}
	}
	tr.DidNotTerminate = true
	return tr, nil
}
