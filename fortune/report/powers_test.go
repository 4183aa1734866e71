package report

import (
	"slices"
	"testing"
)

// TestPowerAndDecadeTicks: PowerTicks labels exactly its values inside the range; DecadeTicks
// labels the powers of ten and leaves 2…9 × 10^k unlabelled.
func TestPowerAndDecadeTicks(t *testing.T) {
	got := PowerTicks{3e-4, 3e-3, 1e-2, 3e-2}.Ticks(1e-3, 3e-2)
	var labels []string
	for _, tk := range got {
		labels = append(labels, tk.Label)
	}
	if want := []string{"3·10⁻³", "10⁻²", "3·10⁻²"}; !slices.Equal(labels, want) {
		t.Errorf("PowerTicks labels %q, want %q", labels, want)
	}
	labels = nil
	n := 0
	for _, tk := range (DecadeTicks{}).Ticks(2e-5, 0.5) {
		n++
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if want := []string{"10⁻⁴", "10⁻³", "10⁻²", "10⁻¹"}; !slices.Equal(labels, want) || n != 8+3*9+5 {
		t.Errorf("DecadeTicks: %d ticks, labels %q; want %d, %q", n, labels, 8+3*9+5, want)
	}
}
