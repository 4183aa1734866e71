package campaign

import (
	"fmt"
	"io"
	"time"
)

// progress prints one updating line per (variant, BER): done/total, ETA and the last result.
// Lines end with "\r" while updating and "\n" when done, which terminals and notebook cells
// both show as one line.
type progress struct {
	w     io.Writer
	label string
	total int
	done  int
	t0    time.Time
	last  string
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

func (p *progress) linef(format string, args ...any) {
	if p.w != nil {
		fmt.Fprintf(p.w, format+"\n", args...)
	}
}

func (p *progress) start(label string, total int) {
	p.label, p.total, p.done, p.t0, p.last = label, total, 0, time.Now(), ""
}

func (p *progress) step(done int, msg string) {
	p.done, p.last = done, msg
	if p.w == nil {
		return
	}
	el := time.Since(p.t0)
	eta := time.Duration(0)
	if done > 0 {
		eta = el / time.Duration(done) * time.Duration(p.total-done)
	}
	fmt.Fprintf(p.w, "\r%s: trial %d/%d, %s, elapsed %s, ETA %s   ", p.label, done, p.total, msg,
		el.Round(time.Second), eta.Round(time.Second))
}

func (p *progress) note(msg string) {
	if p.w != nil {
		fmt.Fprintf(p.w, "\r%s: %s", p.label, msg)
	}
}

func (p *progress) end() {
	if p.w != nil && p.label != "" {
		fmt.Fprintln(p.w)
	}
	p.label = ""
}
