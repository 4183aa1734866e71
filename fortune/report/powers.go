package report

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// superscriptDigits are the Unicode superscripts of '0'…'9'.
var superscriptDigits = []rune("⁰¹²³⁴⁵⁶⁷⁸⁹")

// superscript writes an integer with Unicode superscript digits and minus sign: -4 → "⁻⁴".
func superscript(n int) string {
	var b strings.Builder
	for _, c := range strconv.Itoa(n) {
		if c == '-' {
			b.WriteRune('⁻')
		} else {
			b.WriteRune(superscriptDigits[c-'0'])
		}
	}
	return b.String()
}

// PowerLabel writes x as a power of ten with a superscript exponent and up to 3 significant
// digits: 1e-5 → "10⁻⁵", 3e-4 → "3·10⁻⁴", 2.5e-6 → "2.5·10⁻⁶", 1 → "10⁰", -0.002 → "-2·10⁻³".
// Zero prints "0", NaN "–" and infinities "∞"/"-∞". It is the notation of BERs and log-axis
// ticks in figures drawn with FigureOptions.PowersOfTen, and reads the same in Markdown.
func PowerLabel(x float64) string {
	if s, ok := formatSpecial(x); ok {
		return s
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(x, 'e', 2, 64), "e")
	mant = strings.TrimSuffix(strings.TrimRight(mant, "0"), ".")
	e, _ := strconv.Atoi(exp)
	p := "10" + superscript(e)
	switch mant {
	case "1":
		return p
	case "-1":
		return "-" + p
	}
	return mant + "·" + p
}

// FormatPowerNumber is FormatNumber with its scientific forms written as powers of ten
// ("9.26e-07" → "9.26·10⁻⁷", "1.51e+03" → "1.51·10³"); plain decimals stay as they are.
func FormatPowerNumber(x float64) string {
	s := FormatNumber(x)
	mant, exp, ok := strings.Cut(s, "e")
	if !ok {
		return s
	}
	e, err := strconv.Atoi(exp)
	if err != nil {
		return s
	}
	return mant + "·10" + superscript(e)
}

// supText is the figures' text handler: text.Plain, except that the Unicode superscripts
// ⁰…⁹, ⁻ and ⁺ are drawn as the ordinary digits and signs, smaller and raised. The figures'
// font (Liberation) lacks ⁰, ⁹ and ⁻, which text.Plain would draw as empty boxes. Text without
// superscripts is measured and drawn exactly as text.Plain does.
type supText struct{ text.Plain }

// supHandler is the handler of every text in the figures.
var supHandler text.Handler = supText{text.Plain{Fonts: font.DefaultCache}}

const (
	supScale = 0.7  // Size of a superscript, of the font size.
	supRaise = 0.36 // Baseline shift of a superscript, of the font size.
)

// supRun is a run of a line's text, superscript or not; a superscript run holds the ordinary
// characters to draw.
type supRun struct {
	s   string
	sup bool
}

// supRuns splits a line into runs; ok is false when it has no superscript.
func supRuns(line string) (runs []supRun, ok bool) {
	var cur strings.Builder
	sup := false
	flush := func() {
		if cur.Len() > 0 {
			runs = append(runs, supRun{cur.String(), sup})
			cur.Reset()
		}
	}
	for _, c := range line {
		plain, isSup := rune(0), false
		switch {
		case c == '⁻':
			plain, isSup = '−', true
		case c == '⁺':
			plain, isSup = '+', true
		case c == '¹':
			plain, isSup = '1', true
		case c == '²':
			plain, isSup = '2', true
		case c == '³':
			plain, isSup = '3', true
		case c == '⁰' || (c >= '⁴' && c <= '⁹'):
			plain, isSup = '0'+(c-'⁰'), true
		}
		if isSup != sup {
			flush()
			sup = isSup
		}
		ok = ok || isSup
		if isSup {
			cur.WriteRune(plain)
		} else {
			cur.WriteRune(c)
		}
	}
	flush()
	return runs, ok
}

// faces returns the faces of ordinary and superscript text of a font.
func (h supText) faces(fnt font.Font) (normal, small font.Face) {
	sf := fnt
	sf.Size = fnt.Size * supScale
	return h.Fonts.Lookup(fnt, fnt.Size), h.Fonts.Lookup(sf, sf.Size)
}

// width returns the width of a line's runs.
func (h supText) width(runs []supRun, fnt font.Font) vg.Length {
	normal, small := h.faces(fnt)
	var w vg.Length
	for _, r := range runs {
		if r.sup {
			w += small.Width(r.s)
		} else {
			w += normal.Width(r.s)
		}
	}
	return w
}

// Box implements text.Handler.
func (h supText) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	runs, ok := supRuns(txt)
	if !ok {
		return h.Plain.Box(txt, fnt)
	}
	_, height, depth = h.Plain.Box("", fnt)
	return h.width(runs, fnt), height, depth
}

// Draw implements text.Handler, placing lines as text.Plain does.
func (h supText) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	if _, ok := supRuns(txt); !ok {
		h.Plain.Draw(c, txt, sty, pt)
		return
	}
	txt = strings.TrimRight(txt, "\n")
	normal, small := h.faces(sty.Font)
	c.SetColor(sty.Color)
	if sty.Rotation != 0 {
		c.Push()
		c.Rotate(sty.Rotation)
	}
	sin64, cos64 := math.Sincos(sty.Rotation)
	cos, sin := vg.Length(cos64), vg.Length(sin64)
	pt.X, pt.Y = pt.Y*sin+pt.X*cos, pt.Y*cos-pt.X*sin
	lines := h.Lines(txt)
	pt.Y += sty.Height(txt)*vg.Length(sty.YAlign) - normal.Extents().Ascent
	for i, line := range lines {
		runs, _ := supRuns(line)
		x := pt.X + vg.Length(sty.XAlign)*h.width(runs, sty.Font)
		y := pt.Y + vg.Length(len(lines)-i)*sty.Font.Size
		for _, r := range runs {
			if r.sup {
				c.FillString(small, vg.Point{X: x, Y: y + supRaise*sty.Font.Size}, r.s)
				x += small.Width(r.s)
			} else {
				c.FillString(normal, vg.Point{X: x, Y: y}, r.s)
				x += normal.Width(r.s)
			}
		}
	}
	if sty.Rotation != 0 {
		c.Pop()
	}
}

// TextHandler is the figures' text handler (text.Plain that draws the superscripts of
// PowerLabel, which the figures' font lacks). Set it on the tick labels of a plot of one's
// own that uses PowerTicks or DecadeTicks.
var TextHandler text.Handler = supHandler

// PowerTicks marks a log axis (plot.LogScale) with labelled ticks at exactly its values,
// written as powers of ten (PowerLabel: 3·10⁻⁴), e.g. the BERs a campaign ran; values out of
// the axis' range are left out. Draw the labels with TextHandler.
type PowerTicks []float64

// Ticks implements plot.Ticker.
func (t PowerTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, v := range t {
		if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
			ticks = append(ticks, plot.Tick{Value: v, Label: PowerLabel(v)})
		}
	}
	return ticks
}

// DecadeTicks marks a log axis (plot.LogScale) with labelled powers of ten (10⁻⁵) and
// unlabelled minor ticks at 2…9 × 10^k. Draw the labels with TextHandler.
type DecadeTicks struct{}

// Ticks implements plot.Ticker.
func (DecadeTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0 && hi >= lo) || !finite(lo) || !finite(hi) {
		return nil
	}
	var ticks []plot.Tick
	for k := int(math.Floor(math.Log10(lo))); k <= int(math.Ceil(math.Log10(hi))); k++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow10(k)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 {
				t.Label = PowerLabel(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
