package train

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fortune-go/fortune/internal/progress"
)

// ProgressStyle selects how training progress is written.
type ProgressStyle = progress.Style

const (
	// ProgressBar rewrites one line with "\r" (terminals and Jupyter cells), at most five times a
	// second, and ends it with a newline at each epoch's end.
	ProgressBar ProgressStyle = progress.Bar
	// ProgressLines writes one line every Config.ProgressEvery steps of an epoch, and its last
	// (logs, CI).
	ProgressLines ProgressStyle = progress.Lines
)

// trainProgress writes training progress: one line per epoch (a step counts towards the whole
// run, of which the rate and the ETA are estimated), plus full lines for events.
type trainProgress struct {
	p        *progress.Printer
	perEpoch int
}

// newProgress returns the progress of a run of epochs epochs of perEpoch steps, startStep of
// them done before (a resumed run), written to w (nil: nothing) in the given style, every
// every steps in the Lines style (0: 50).
func newProgress(w io.Writer, style ProgressStyle, every, epochs, perEpoch, startStep int) *trainProgress {
	return newProgressClock(w, style, every, epochs, perEpoch, startStep, nil)
}

// newProgressClock is newProgress with a clock (nil: time.Now).
func newProgressClock(w io.Writer, style ProgressStyle, every, epochs, perEpoch, startStep int, now func() time.Time) *trainProgress {
	t := &trainProgress{p: progress.New(w, style), perEpoch: perEpoch}
	t.p.Every, t.p.Period, t.p.Format, t.p.Now = every, perEpoch, t.line, now
	t.p.StartAt("", startStep, epochs*perEpoch)
	return t
}

// step reports the state after `step` completed steps (global count).
func (t *trainProgress) step(step int, loss, acc, lr float64) {
	if t == nil {
		return
	}
	t.p.Step(step, fmt.Sprintf("loss %.4f acc %.2f%% lr %.4g", loss, acc, lr))
}

// line formats "epoch 3/30 [######--------------] 120/390 loss 1.2345 acc 56.78% lr 0.0812
// 4.1 it/s ETA 1m6s": the epoch's bar, the step within the epoch, the step's message, and the
// rate and time left of the whole run. Below one step a second the rate reads as seconds per
// step ("118 s/it": Inception-v3 on two cores).
func (t *trainProgress) line(s progress.State) string {
	const width = 20
	inEpoch := (s.Done-1)%t.perEpoch + 1
	filled := inEpoch * width / t.perEpoch
	bar := strings.Repeat("#", filled) + strings.Repeat("-", width-filled)
	epoch := (s.Done-1)/t.perEpoch + 1
	epochs := (s.Total + t.perEpoch - 1) / t.perEpoch
	rate := "0.0 it/s"
	switch {
	case s.Known && s.Rate >= 1:
		rate = fmt.Sprintf("%.1f it/s", s.Rate)
	case s.Known && s.Rate > 0:
		rate = fmt.Sprintf("%.3g s/it", 1/s.Rate)
	}
	return fmt.Sprintf("epoch %d/%d [%s] %d/%d %s %s ETA %s",
		epoch, epochs, bar, inEpoch, t.perEpoch, s.Message, rate, s.ETAString())
}

// setTotal changes the run's length to total steps (a budgeted run's plan).
func (t *trainProgress) setTotal(total int) {
	if t != nil {
		t.p.SetTotal(total)
	}
}

// message writes a full line (ending a "\r" bar line first).
func (t *trainProgress) message(format string, args ...any) {
	if t != nil {
		t.p.Linef(format, args...)
	}
}
