package progress

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

// clock is a fake clock that tests advance by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// newPrinter returns a Printer of the style writing to the returned buffer, on a fake clock.
func newPrinter(style Style) (*Printer, *bytes.Buffer, *clock) {
	var b bytes.Buffer
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := New(&b, style)
	p.Now = c.now
	return p, &b, c
}

// TestSilent: without a writer, and on a nil Printer, every method writes nothing and does not
// panic.
func TestSilent(t *testing.T) {
	for _, p := range []*Printer{nil, New(nil, Bar), New(nil, Lines), {}} {
		p.Start("x", 3)
		p.Step(1, "m")
		p.Note("n")
		p.Linef("line %d", 1)
		p.SetTotal(4)
		p.Step(4, "m")
		p.End()
	}
}

// TestBar: the default line, "\r" before each redraw, padding over a longer previous line,
// and the newline of End.
func TestBar(t *testing.T) {
	p, b, c := newPrinter(Bar)
	p.Interval, p.Unit = 0, "trial"
	p.Start("lenet5 P-4 BER 1e-02", 10)
	c.advance(5 * time.Second)
	p.Step(3, "drop 0.10 pp (mean 0.05), long")
	c.advance(time.Second)
	p.Step(4, "drop 0.20 pp")
	p.End()
	first := "lenet5 P-4 BER 1e-02: trial 3/10, drop 0.10 pp (mean 0.05), long, elapsed 5s, ETA 12s"
	second := "lenet5 P-4 BER 1e-02: trial 4/10, drop 0.20 pp, elapsed 6s, ETA 9s"
	want := "\r" + first + "\r" + second + strings.Repeat(" ", len(first)-len(second)) + "\n"
	if b.String() != want {
		t.Errorf("wrote\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	p.End() // Nothing open: nothing to end.
	p.Start("again", 2)
	p.End() // Nothing drawn: no empty line.
	if b.Len() != 0 {
		t.Errorf("End without a line wrote %q", b.String())
	}
}

// TestThrottle: a Bar line is redrawn at most every Interval, except at the last step of the
// loop and of each period, which is always drawn.
func TestThrottle(t *testing.T) {
	p, b, c := newPrinter(Bar)
	p.Format = func(s State) string { return strings.Repeat("x", s.Done) }
	p.Start("", 10)
	var drawn []int
	for i := 1; i <= 10; i++ {
		before := b.Len()
		p.Step(i, "")
		if b.Len() > before {
			drawn = append(drawn, i)
		}
		c.advance(90 * time.Millisecond)
	}
	// Redrawn at 0 ms (step 1), 270 ms (step 4), 540 ms (step 7), and the last step (10).
	if want := []int{1, 4, 7, 10}; !slices.Equal(drawn, want) {
		t.Errorf("drawn at steps %v, want %v (Interval %s, a step every 90ms)", drawn, want, p.Interval)
	}
	b.Reset()
	drawn = nil
	p.Period = 3
	p.Start("", 7)
	for i := 1; i <= 7; i++ { // No time passes: the new loop's first step, the periods' and its last.
		before := b.Len()
		p.Step(i, "")
		if b.Len() > before {
			drawn = append(drawn, i)
		}
	}
	if want := []int{1, 3, 6, 7}; !slices.Equal(drawn, want) {
		t.Errorf("with periods of 3: drawn at steps %v, want %v", drawn, want)
	}
}

// TestLines: the Lines style writes every Every-th step of a period and the last, each on a
// line of its own; Note and Linef write lines too.
func TestLines(t *testing.T) {
	p, b, c := newPrinter(Lines)
	p.Every, p.Period = 2, 5
	p.Format = func(s State) string { return s.Message }
	p.Start("train", 10)
	for i := 1; i <= 10; i++ {
		c.advance(time.Second)
		p.Step(i, string(rune('a'+i-1)))
	}
	p.Note("note")
	p.Linef("done %d", 10)
	p.End()
	// Steps 2, 4 and 5 of the first period, 7 (2nd of the second), 9 and 10.
	if want := "b\nd\ne\ng\ni\nj\ntrain: note\ndone 10\n"; b.String() != want {
		t.Errorf("wrote %q, want %q", b.String(), want)
	}
	b.Reset()
	p.Every, p.Period = 0, 0
	p.Start("", 120)
	for i := 1; i <= 120; i++ {
		p.Step(i, "x")
	}
	if n := strings.Count(b.String(), "\n"); n != 3 { // 50, 100 and 120.
		t.Errorf("Every 0: %d lines, want 3 (every %d steps and the last)", n, DefaultEvery)
	}
}

// TestLinefEndsBar: a full line first ends the open Bar line, so that it stays on screen; the
// next step starts a fresh line, without padding.
func TestLinefEndsBar(t *testing.T) {
	p, b, _ := newPrinter(Bar)
	p.Interval = 0
	p.Format = func(s State) string { return s.Message }
	p.Start("", 4)
	p.Step(1, "a long line")
	p.Linef("event %s", "x")
	p.Step(2, "b")
	p.Note("stop")
	p.End()
	if want := "\ra long line\nevent x\n\rb\rstop\n"; b.String() != want {
		t.Errorf("wrote %q, want %q", b.String(), want)
	}
}

// TestState: elapsed time, rate and ETA, counting from StartAt's steps; unknown before the
// first step, no time left after the last.
func TestState(t *testing.T) {
	p, _, c := newPrinter(Bar)
	p.StartAt("", 100, 400)
	if s := p.State(100, ""); s.Known || s.ETAString() != "?" {
		t.Errorf("before a step: %+v, ETA %s", s, s.ETAString())
	}
	c.advance(50 * time.Second)
	s := p.State(120, "m")
	if !s.Known || s.Elapsed != 50*time.Second || s.Rate != 0.4 || s.ETA != 700*time.Second || s.ETAString() != "11m40s" {
		t.Errorf("20 steps in 50s, 280 left: %+v, ETA %s", s, s.ETAString())
	}
	p.SetTotal(120)
	if s := p.State(120, ""); s.ETA != 0 || s.ETAString() != "0s" {
		t.Errorf("no step left: ETA %s", s.ETAString())
	}
	p.SetTotal(110) // Re-planned shorter than done: no negative time left.
	if s := p.State(120, ""); s.ETA != 0 {
		t.Errorf("past the total: ETA %s", s.ETA)
	}
	if got := (State{Done: 1, Total: 2, Elapsed: 1400 * time.Millisecond}).String(); got != "1/2, elapsed 1s, ETA ?" {
		t.Errorf("bare State = %q", got)
	}
}
