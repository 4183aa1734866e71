package train

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// ProgressStyle selects how training progress is written.
type ProgressStyle int

const (
	// ProgressBar rewrites one line with "\r" (terminals and Jupyter cells), at most a few times a
	// second, and ends it with a newline at each epoch's end.
	ProgressBar ProgressStyle = iota
	// ProgressLines writes one line every Config.ProgressEvery steps (logs, CI).
	ProgressLines
)

// progress writes training progress lines.
type progress struct {
	w          io.Writer
	style      ProgressStyle
	every      int
	epochs     int
	perEpoch   int
	total      int
	startStep  int
	start      time.Time
	lastDraw   time.Time
	lastLength int
}

func newProgress(w io.Writer, style ProgressStyle, every, epochs, perEpoch, startStep int) *progress {
	if every <= 0 {
		every = 50
	}
	now := time.Now()
	return &progress{w: w, style: style, every: every, epochs: epochs, perEpoch: perEpoch,
		total: epochs * perEpoch, startStep: startStep, start: now}
}

// step reports the state after `step` completed steps (global count).
func (p *progress) step(step int, loss, acc, lr float64) {
	if p == nil || p.w == nil {
		return
	}
	inEpoch := (step-1)%p.perEpoch + 1
	last := inEpoch == p.perEpoch || step == p.total
	now := time.Now()
	switch p.style {
	case ProgressLines:
		if inEpoch%p.every != 0 && !last {
			return
		}
		fmt.Fprintln(p.w, p.line(step, inEpoch, loss, acc, lr, now))
	default:
		if !last && now.Sub(p.lastDraw) < 200*time.Millisecond {
			return
		}
		p.lastDraw = now
		line := p.line(step, inEpoch, loss, acc, lr, now)
		pad := ""
		if n := p.lastLength - len(line); n > 0 {
			pad = strings.Repeat(" ", n)
		}
		p.lastLength = len(line)
		fmt.Fprint(p.w, "\r"+line+pad)
	}
}

// line formats "epoch 3/30 [#####-----] 120/390 loss 1.2345 acc 56.78% lr 0.0812 4.1 it/s ETA 1m06s".
func (p *progress) line(step, inEpoch int, loss, acc, lr float64, now time.Time) string {
	const width = 20
	filled := inEpoch * width / p.perEpoch
	bar := strings.Repeat("#", filled) + strings.Repeat("-", width-filled)
	epoch := (step-1)/p.perEpoch + 1
	rate, eta := 0.0, "?"
	if done := step - p.startStep; done > 0 {
		elapsed := now.Sub(p.start)
		rate = float64(done) / elapsed.Seconds()
		left := time.Duration(float64(p.total-step) / float64(done) * float64(elapsed))
		eta = left.Round(time.Second).String()
	}
	return fmt.Sprintf("epoch %d/%d [%s] %d/%d loss %.4f acc %.2f%% lr %.4g %.1f it/s ETA %s",
		epoch, p.epochs, bar, inEpoch, p.perEpoch, loss, acc, lr, rate, eta)
}

// setTotal changes the run's length to total steps (a budgeted run's plan).
func (p *progress) setTotal(total int) {
	if p == nil {
		return
	}
	p.total = total
	p.epochs = (total + p.perEpoch - 1) / p.perEpoch
}

// message writes a full line (ending a "\r" bar line first).
func (p *progress) message(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	if p.style == ProgressBar && p.lastLength > 0 {
		fmt.Fprintln(p.w)
		p.lastLength = 0
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}
