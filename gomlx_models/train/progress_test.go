package train

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgressLines: the Lines style writes the run's step line every ProgressEvery steps of an
// epoch and at its end, with the epoch's bar, the loss, accuracy and learning rate, and the
// rate and time left of the whole (resumed) run; events are full lines.
func TestProgressLines(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	p := newProgressClock(&out, ProgressLines, 60, 30, 390, 2*390, clock) // Resumed after 2 epochs.
	for step := 2*390 + 1; step <= 2*390+120; step++ {
		now = now.Add(time.Second / 4)
		p.step(step, 1.2345, 56.78, 0.0812)
	}
	p.message("epoch %d/%d: train loss %.4f", 3, 30, 1.2345)
	want := "epoch 3/30 [###-----------------] 60/390 loss 1.2345 acc 56.78% lr 0.0812 4.0 it/s ETA 45m15s\n" +
		"epoch 3/30 [######--------------] 120/390 loss 1.2345 acc 56.78% lr 0.0812 4.0 it/s ETA 45m0s\n" +
		"epoch 3/30: train loss 1.2345\n"
	if out.String() != want {
		t.Errorf("wrote\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	p.setTotal(3 * 390) // A budget's plan: the run ends with this epoch.
	for step := 2*390 + 121; step <= 3*390; step++ {
		p.step(step, 1, 50, 0.1)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 5 ||
		!strings.HasPrefix(lines[4], "epoch 3/3 [####################] 390/390 loss 1.0000 acc 50.00% lr 0.1 ") ||
		!strings.HasSuffix(lines[4], " ETA 0s") {
		t.Errorf("after the plan:\n%s", out.String())
	}
}

// TestProgressBar: the Bar style rewrites one line with "\r" at most five times a second, draws
// an epoch's last step, and a full line ends the bar line first.
func TestProgressBar(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProgressClock(&out, ProgressBar, 0, 2, 10, 0, func() time.Time { return now })
	for step := 1; step <= 10; step++ {
		now = now.Add(50 * time.Millisecond)
		p.step(step, 0.5, 90, 0.01)
	}
	p.message("epoch 1/2: train loss 0.5000")
	got := out.String()
	if n := strings.Count(got, "\r"); n != 4 { // Steps 1, 5 and 9 (every 200 ms), and 10.
		t.Errorf("%d redraws, want 4:\n%q", n, got)
	}
	if !strings.HasSuffix(got, "\repoch 1/2 [####################] 10/10 loss 0.5000 acc 90.00% lr 0.01 20.0 it/s ETA 1s\nepoch 1/2: train loss 0.5000\n") {
		t.Errorf("wrote %q", got)
	}
	out.Reset()
	if newProgress(nil, ProgressBar, 0, 1, 10, 0).step(1, 0, 0, 0); out.Len() != 0 {
		t.Error("no writer: wrote")
	}
	var nilProgress *trainProgress // A trainer built without progress, as in some tests.
	nilProgress.step(1, 0, 0, 0)
	nilProgress.setTotal(5)
	nilProgress.message("x")
}

// TestProgressSlowSteps: below one step a second the rate reads as seconds per step.
func TestProgressSlowSteps(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProgressClock(&out, ProgressLines, 2, 1, 20, 0, func() time.Time { return now })
	for step := 1; step <= 2; step++ {
		now = now.Add(118 * time.Second)
		p.step(step, 2.4716, 11.48, 0.0004257)
	}
	want := "epoch 1/1 [##------------------] 2/20 loss 2.4716 acc 11.48% lr 0.0004257 118 s/it ETA 35m24s\n"
	if out.String() != want {
		t.Errorf("wrote\n%s\nwant\n%s", out.String(), want)
	}
}
