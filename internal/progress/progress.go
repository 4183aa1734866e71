// Package progress writes the progress of a long loop (a campaign's trials, a training's steps)
// as one line that a terminal or a notebook cell shows updating in place, or as one line every
// few steps for logs.
//
// A Printer counts steps towards a total from Start (or StartAt, for a resumed loop) and keeps
// the time: each Step reports how many steps are done, and the Printer formats the line with the
// elapsed time, the rate and the estimated time left. In the Bar style the line is rewritten with
// "\r", padded with spaces over a longer previous line, at most every Interval except for the
// last step, and End finishes it with a newline; in the Lines style every Every-th step (and the
// last) is written on a line of its own. A Printer without a writer writes nothing.
package progress

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Style selects how progress is written.
type Style int

const (
	// Bar rewrites one line with "\r" (terminals and Jupyter cells), at most every
	// Printer.Interval, and ends it with a newline (End, or a full line from Linef).
	Bar Style = iota
	// Lines writes one line every Printer.Every steps (logs, CI).
	Lines
)

// DefaultInterval is the least time between two redraws of a Bar line that New sets: five a
// second.
const DefaultInterval = 200 * time.Millisecond

// DefaultEvery is the number of steps between two lines of the Lines style when Printer.Every is
// not positive.
const DefaultEvery = 50

// State is the progress at one step, as Printer.Format receives it.
type State struct {
	// Label names the loop (Start's label).
	Label string
	// Unit names a step (Printer.Unit), e.g. "trial".
	Unit string
	// Done is the number of steps done, Total the number the loop will run.
	Done, Total int
	// Message is Step's message, e.g. the last trial's result.
	Message string
	// Elapsed is the time since Start.
	Elapsed time.Duration
	// Rate is the number of steps done since Start per second (steps done before StartAt's
	// count excluded); meaningful only when Known.
	Rate float64
	// ETA is the time the remaining steps take at the elapsed time per step (0 when none
	// remain); meaningful only when Known.
	ETA time.Duration
	// Known says a step was done since Start, so that Rate and ETA are estimated.
	Known bool
}

// String formats s as "label: unit done/total, message, elapsed 5s, ETA 12s" (the label, unit
// and message left out where empty; "ETA ?" before the first step), durations rounded to the
// second.
func (s State) String() string {
	var b strings.Builder
	if s.Label != "" {
		b.WriteString(s.Label + ": ")
	}
	if s.Unit != "" {
		b.WriteString(s.Unit + " ")
	}
	fmt.Fprintf(&b, "%d/%d", s.Done, s.Total)
	if s.Message != "" {
		b.WriteString(", " + s.Message)
	}
	fmt.Fprintf(&b, ", elapsed %s, ETA %s", s.Elapsed.Round(time.Second), s.ETAString())
	return b.String()
}

// ETAString is the ETA rounded to the second ("1m6s"), or "?" when not Known.
func (s State) ETAString() string {
	if !s.Known {
		return "?"
	}
	return s.ETA.Round(time.Second).String()
}

// Printer writes the progress of one loop at a time. Its exported fields configure it; set them
// before Start. The zero Printer, and a nil one, write nothing.
type Printer struct {
	// Style is Bar or Lines.
	Style Style
	// Every is the number of steps between two lines in the Lines style, counted within a
	// period when Period is set; not positive means DefaultEvery.
	Every int
	// Interval is the least time between two redraws of a Bar line; the last step of the loop
	// (and of each period) is drawn whenever it comes. Zero redraws at every step.
	Interval time.Duration
	// Period, when positive, splits the count into periods of that many steps (a training's
	// epochs): the last step of each period is drawn like the loop's last, and Every counts
	// steps within a period.
	Period int
	// Unit names a step in the default line, e.g. "trial": "label: trial 3/10, …".
	Unit string
	// Format formats a step's line, without "\r" or "\n"; nil means State.String.
	Format func(State) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	w        io.Writer
	label    string
	total    int
	base     int       // Steps done before Start's time: not counted in the rate.
	t0       time.Time // Start's time.
	lastDraw time.Time // The last Bar redraw.
	drawn    int       // Width of the Bar line on screen; 0 when none is open.
}

// New returns a Printer writing to w (nil: nothing) in the given style, redrawing a Bar line
// at most every DefaultInterval.
func New(w io.Writer, style Style) *Printer {
	return &Printer{w: w, Style: style, Interval: DefaultInterval}
}

// Start begins a loop of total steps named label (StartAt with no step done).
func (p *Printer) Start(label string, total int) { p.StartAt(label, 0, total) }

// StartAt begins a loop of total steps named label of which done were done before (a resumed
// loop): the rate and the ETA count only the steps done from now on. It ends the line of a
// previous loop, and the new loop's first step is drawn whenever it comes.
func (p *Printer) StartAt(label string, done, total int) {
	if p == nil {
		return
	}
	p.End()
	p.label, p.base, p.total, p.t0 = label, done, total, p.now()
	p.lastDraw = time.Time{} // The loop's first step is drawn.
}

// SetTotal changes the number of steps of the running loop (e.g. a re-planned training).
func (p *Printer) SetTotal(total int) {
	if p != nil {
		p.total = total
	}
}

// State returns the progress after done steps with message msg, as of now.
func (p *Printer) State(done int, msg string) State {
	s := State{Label: p.label, Unit: p.Unit, Done: done, Total: p.total, Message: msg, Elapsed: p.now().Sub(p.t0)}
	if n := done - p.base; n > 0 {
		s.Known = true
		s.Rate = float64(n) / s.Elapsed.Seconds()
		if left := p.total - done; left > 0 {
			s.ETA = time.Duration(float64(left) / float64(n) * float64(s.Elapsed))
		}
	}
	return s
}

// Step reports that done steps of the loop are done, msg describing the last one. In the Bar
// style it redraws the line unless the last redraw is less than Interval old and this is not
// the last step (of the loop or of a period); in the Lines style it writes a line every Every
// steps and at the last step.
func (p *Printer) Step(done int, msg string) {
	if p == nil || p.w == nil {
		return
	}
	inPeriod := done
	if p.Period > 0 {
		inPeriod = (done-1)%p.Period + 1
	}
	last := done >= p.total || (p.Period > 0 && inPeriod == p.Period)
	switch p.Style {
	case Lines:
		every := p.Every
		if every <= 0 {
			every = DefaultEvery
		}
		if inPeriod%every != 0 && !last {
			return
		}
		fmt.Fprintln(p.w, p.format(p.State(done, msg)))
	default:
		now := p.now()
		if !last && now.Sub(p.lastDraw) < p.Interval {
			return
		}
		p.lastDraw = now
		p.draw(p.format(p.State(done, msg)))
	}
}

// Note shows "label: msg" at once: in the Bar style in place of the line (which End then
// finishes), in the Lines style on a line of its own.
func (p *Printer) Note(msg string) {
	if p == nil || p.w == nil {
		return
	}
	line := msg
	if p.label != "" {
		line = p.label + ": " + msg
	}
	if p.Style == Lines {
		fmt.Fprintln(p.w, line)
		return
	}
	p.lastDraw = p.now()
	p.draw(line)
}

// Linef writes a full line (fmt.Sprintf(format, args...) and "\n"), first ending an open Bar
// line so that it keeps the last state drawn.
func (p *Printer) Linef(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.endLine()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// End finishes the loop: an open Bar line is ended with "\n".
func (p *Printer) End() {
	if p == nil {
		return
	}
	if p.w != nil {
		p.endLine()
	}
	p.label = ""
}

// endLine ends an open Bar line with "\n".
func (p *Printer) endLine() {
	if p.drawn > 0 {
		fmt.Fprintln(p.w)
		p.drawn = 0
	}
}

// draw rewrites the Bar line with line, padded with spaces over a longer previous one.
func (p *Printer) draw(line string) {
	n := utf8.RuneCountInString(line)
	pad := ""
	if p.drawn > n {
		pad = strings.Repeat(" ", p.drawn-n)
	}
	fmt.Fprint(p.w, "\r"+line+pad)
	p.drawn = max(n, 1) // An empty line is still open.
}

func (p *Printer) format(s State) string {
	if p.Format != nil {
		return p.Format(s)
	}
	return s.String()
}

func (p *Printer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
