package nbkit

import (
	"strings"
	"testing"
)

// TestLineFilters: the training filter keeps the end-of-epoch lines only, the campaign filter
// drops the trials before a cell's last; both cut at "\r" and at "\n", across writes.
func TestLineFilters(t *testing.T) {
	var b strings.Builder
	w := epochLines(&b)
	for _, chunk := range []string{"epoch 1/4 [##--] 50/468 loss 1.2\r", "epoch 1/4 [####] 468/468 loss 0.7\n",
		"epoch 1/4: train loss 0.70 acc 73.46%, test ", "acc 83.23% (8323/10000, 4.977s)\n", "lenet5: done\n"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if want := "epoch 1/4: train loss 0.70 acc 73.46%, test acc 83.23% (8323/10000, 4.977s)\n"; b.String() != want {
		t.Errorf("epochLines wrote %q, want %q", b.String(), want)
	}
	if epochLines(nil) != nil {
		t.Error("epochLines(nil) is not nil")
	}
	b.Reset()
	w = ProgressFilter(&b, 3)
	for _, line := range []string{"lenet5 8-bit: golden 85.38%\n", "lenet5 8-bit BER 3e-04: trial 1/3, drop 0.1\r",
		"lenet5 8-bit BER 3e-04: trial 3/3, drop 0.2\r", "\n"} {
		w.Write([]byte(line))
	}
	if want := "lenet5 8-bit: golden 85.38%\nlenet5 8-bit BER 3e-04: trial 3/3, drop 0.2\n"; b.String() != want {
		t.Errorf("ProgressFilter wrote %q, want %q", b.String(), want)
	}
}
