package report

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/fortune-go/fortune/fortune/atomicfile"
	"github.com/fortune-go/fortune/fortune/metrics"
)

// ErrNothingToPlot is what a figure function returns (wrapped, naming the figure and why) when
// the rows hold nothing it can draw: no finite vulnerability, no positive P_drop (every drop
// ≤ 0, common for a robust network or an untrained one), no finite RAP. A caller writing a whole
// report may leave that figure out and say so; any other error is a real failure.
var ErrNothingToPlot = errors.New("nothing to plot")

// Figure is a rendered figure.
type Figure struct {
	// Name is the file base name, e.g. "figure5".
	Name string
	// SVG is the SVG document.
	SVG []byte
	// PNG is the PNG image.
	PNG []byte
}

// Save writes Name.svg and Name.png into dir atomically and returns their paths.
func (f Figure) Save(dir string) (svgPath, pngPath string, err error) {
	if f.Name == "" {
		return "", "", fmt.Errorf("save figure: empty name")
	}
	svgPath = filepath.Join(dir, f.Name+".svg")
	pngPath = filepath.Join(dir, f.Name+".png")
	if err := atomicfile.WriteFile(svgPath, f.SVG, 0o644); err != nil {
		return "", "", fmt.Errorf("save figure %s: %w", f.Name, err)
	}
	if err := atomicfile.WriteFile(pngPath, f.PNG, 0o644); err != nil {
		return "", "", fmt.Errorf("save figure %s: %w", f.Name, err)
	}
	return svgPath, pngPath, nil
}

// FigureOptions tunes the figures. Zero values pick defaults.
type FigureOptions struct {
	// Title is drawn above the panels (optional).
	Title string
	// PanelWidth and PanelHeight size each panel (default 10 cm × 8 cm).
	PanelWidth, PanelHeight vg.Length
	// DPI of the PNG (default 144).
	DPI int
	// PDrop selects the P_drop plotted in Figure 6 (default Eq. 6).
	PDrop metrics.PDropMode
	// PDropModel is the c of Eq. 6 used for the paper's values in Figure 6 when PDrop is
	// metrics.BERMatched (the paper prints only the legacy P_drop, so its Eq. 6 values are
	// recomputed from its Table II vulnerabilities); the zero value means metrics.DefaultC.
	PDropModel metrics.PDropModel
	// HidePaper leaves out the paper's values, which are otherwise drawn beside ours in
	// every panel of a model the paper has (set it when the rows are the paper's own).
	HidePaper bool
	// Provenance, if set, is embedded as an SVG comment and a PNG tEXt chunk.
	Provenance *Provenance
	// PowersOfTen writes BERs, the ticks of log axes and the numbers in the notes as powers of
	// ten with a superscript exponent (3·10⁻⁴, see PowerLabel) instead of e-notation (3e-4).
	PowersOfTen bool
}

// berLabel writes a BER for a legend, tick or note.
func (o FigureOptions) berLabel(b float64) string {
	if o.PowersOfTen {
		return PowerLabel(b)
	}
	return BERLabel(b)
}

// numLabel writes a value in a note (numMarked's format).
func (o FigureOptions) numLabel(x float64) string {
	if !o.PowersOfTen {
		return numMarked(x)
	}
	if x < 0 {
		return FormatPowerNumber(x) + negMark
	}
	return FormatPowerNumber(x)
}

func (o FigureOptions) withDefaults() FigureOptions {
	if o.PanelWidth <= 0 {
		o.PanelWidth = 10 * vg.Centimeter
	}
	if o.PanelHeight <= 0 {
		o.PanelHeight = 8 * vg.Centimeter
	}
	if o.DPI <= 0 {
		o.DPI = 144
	}
	return o
}

// Font sizes (points) of the figures' text.
const (
	titleSize   = 14
	legendSize  = 9
	noteSize    = 8
	tickSize    = 9
	markSize    = 10
	figurePad   = 2 * vg.Millimeter
	legendThumb = 18 // Thumbnail width, points.
)

// byModel groups rows by label (Row.Model, not normalized: two runs of one network are two
// panels) in order of first appearance.
func byModel(rows []Row) (models []string, groups map[string][]Row) {
	groups = map[string][]Row{}
	for _, r := range rows {
		m := r.Model
		if _, ok := groups[m]; !ok {
			models = append(models, m)
		}
		groups[m] = append(groups[m], r)
	}
	return models, groups
}

// paperByModel returns the paper's Table II rows (with RAP and Eq. 6 P_drop recomputed with
// pm) by model and normalized variant; nil when hidden.
func paperByModel(o FigureOptions) (map[string]map[string]Row, error) {
	if o.HidePaper {
		return nil, nil
	}
	rows, err := PaperRows(o.PDropModel)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]Row{}
	for _, r := range rows {
		m := NormalizeModel(r.Model)
		if out[m] == nil {
			out[m] = map[string]Row{}
		}
		out[m][r.Variant] = r
	}
	return out, nil
}

// paperRowsFor returns the paper's rows of a row label's network (NormalizeModel of it) in the
// paper's order (8-bit, P-5, P-4, P-3).
func paperRowsFor(paper map[string]map[string]Row, label string) []Row {
	var out []Row
	for _, v := range []string{"8-bit", "P-5", "P-4", "P-3"} {
		if r, ok := paper[NormalizeModel(label)][v]; ok {
			out = append(out, r)
		}
	}
	return out
}

// grid arranges panels in up to two columns.
func grid(ps []*plot.Plot) [][]*plot.Plot {
	cols := 2
	if len(ps) == 1 {
		cols = 1
	}
	var g [][]*plot.Plot
	for i := 0; i < len(ps); i += cols {
		row := make([]*plot.Plot, cols)
		copy(row, ps[i:])
		g = append(g, row)
	}
	return g
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// legendEntry is one entry of a figure's shared legend.
type legendEntry struct {
	label  string
	thumbs []plot.Thumbnailer
}

// figure is a figure before rendering: panels, one legend for all of them (drawn above the
// panels, never on data) and notes (drawn below, wrapped to the figure's width).
type figure struct {
	name   string
	panels []*plot.Plot
	legend []legendEntry
	notes  []string
}

func textStyle(size vg.Length) text.Style {
	return text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, size), Handler: supHandler}
}

// wrap breaks s into lines no wider than width in style sty.
func wrap(sty text.Style, s string, width vg.Length) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		try := w
		if line != "" {
			try = line + " " + w
		}
		if line != "" && sty.Width(try) > width {
			lines = append(lines, line)
			try = w
		}
		line = try
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// legendLayout places the legend entries in rows across width; it returns each entry's
// offset from the top left corner and the legend's height.
func legendLayout(entries []legendEntry, width vg.Length) (pos []vg.Point, height vg.Length) {
	sty := textStyle(legendSize)
	lineH := vg.Points(legendSize * 1.6)
	x, y := vg.Length(0), vg.Length(0)
	for _, e := range entries {
		w := vg.Points(legendThumb+4) + sty.Width(e.label) + vg.Points(12)
		if x > 0 && x+w > width {
			x, y = 0, y+lineH
		}
		pos = append(pos, vg.Point{X: x, Y: y})
		x += w
	}
	if len(entries) > 0 {
		height = y + lineH
	}
	return pos, height
}

// render draws the title, legend, panel grid and notes onto SVG and PNG canvases.
func (f figure) render(o FigureOptions) (Figure, error) {
	if len(f.panels) == 0 {
		return Figure{}, fmt.Errorf("%s: nothing to plot", f.name)
	}
	g := grid(f.panels)
	rows, cols := len(g), len(g[0])
	w := o.PanelWidth * vg.Length(cols)
	inner := w - 2*figurePad
	titleH := vg.Length(0)
	if o.Title != "" {
		titleH = 1 * vg.Centimeter
	}
	legendPos, legendH := legendLayout(f.legend, inner)
	if legendH > 0 {
		legendH += figurePad
	}
	noteSty := textStyle(noteSize)
	noteLineH := vg.Points(noteSize * 1.35)
	var noteLines []string
	for _, n := range f.notes {
		noteLines = append(noteLines, wrap(noteSty, n, inner)...)
	}
	notesH := vg.Length(len(noteLines)) * noteLineH
	if notesH > 0 {
		notesH += figurePad
	}
	panelsH := o.PanelHeight * vg.Length(rows)
	h := titleH + figurePad + legendH + panelsH + notesH + figurePad
	// Panel titles are drawn here, not by gonum/plot, which aligns the data areas of a row
	// and so would put titles at different heights: each sits above its data area, at the
	// height of the row's highest axis text, in space kept free by the tiles' padding.
	panelTitles := make([]string, len(f.panels))
	for i, p := range f.panels {
		panelTitles[i], p.Title.Text = p.Title.Text, ""
	}
	panelTitleSty := textStyle(12)
	panelTitleSty.XAlign, panelTitleSty.YAlign = draw.XCenter, draw.YBottom
	panelTitleH := vg.Points(12 * 1.5)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: 4 * vg.Millimeter, PadY: 4*vg.Millimeter + panelTitleH,
		PadTop: panelTitleH, PadLeft: figurePad, PadRight: figurePad}
	drawAll := func(c vg.CanvasSizer) {
		dc := draw.New(c)
		dc.FillPolygon(color.White, []vg.Point{{X: dc.Min.X, Y: dc.Min.Y}, {X: dc.Max.X, Y: dc.Min.Y}, {X: dc.Max.X, Y: dc.Max.Y}, {X: dc.Min.X, Y: dc.Max.Y}})
		top := dc.Max.Y - figurePad
		if o.Title != "" {
			sty := textStyle(titleSize)
			sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
			dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: top}, o.Title)
			top -= titleH
		}
		legSty := textStyle(legendSize)
		legSty.YAlign = draw.YCenter
		lineH := vg.Points(legendSize * 1.6)
		for i, e := range f.legend {
			x := dc.Min.X + figurePad + legendPos[i].X
			yc := top - legendPos[i].Y - lineH/2
			thumb := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: yc - lineH*0.3}, Max: vg.Point{X: x + vg.Points(legendThumb), Y: yc + lineH*0.3}}}
			for _, t := range e.thumbs {
				t.Thumbnail(&thumb)
			}
			dc.FillText(legSty, vg.Point{X: x + vg.Points(legendThumb+4), Y: yc}, e.label)
		}
		top -= legendH
		panelArea := draw.Crop(dc, 0, 0, figurePad+notesH, top-dc.Max.Y)
		canvases := plot.Align(g, tiles, panelArea)
		for i := range g {
			var dataTop, above vg.Length // Top of the row's data areas; most axis text above it.
			for j, p := range g[i] {
				if p != nil {
					p.Draw(canvases[i][j])
					da := p.DataCanvas(canvases[i][j])
					dataTop, above = da.Max.Y, max(above, canvases[i][j].Max.Y-da.Max.Y)
				}
			}
			for j, p := range g[i] {
				if p != nil {
					da := p.DataCanvas(canvases[i][j])
					dc.FillText(panelTitleSty, vg.Point{X: (da.Min.X + da.Max.X) / 2, Y: dataTop + above + vg.Points(3)},
						panelTitles[i*cols+j])
				}
			}
		}
		noteSty.YAlign = draw.YTop
		y := dc.Min.Y + figurePad + notesH - figurePad
		for _, l := range noteLines {
			dc.FillText(noteSty, vg.Point{X: dc.Min.X + figurePad, Y: y}, l)
			y -= noteLineH
		}
	}
	out := Figure{Name: f.name}
	if err := func() (err error) {
		// gonum/plot panics on some degenerate inputs; report them as errors.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%s: drawing failed: %v", f.name, r)
			}
		}()
		sc := vgsvg.New(w, h)
		drawAll(sc)
		var sb bytes.Buffer
		if _, err := sc.WriteTo(&sb); err != nil {
			return fmt.Errorf("%s: write svg: %w", f.name, err)
		}
		ic := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(o.DPI))
		drawAll(ic)
		var pb bytes.Buffer
		if _, err := (vgimg.PngCanvas{Canvas: ic}).WriteTo(&pb); err != nil {
			return fmt.Errorf("%s: write png: %w", f.name, err)
		}
		out.SVG, out.PNG = sb.Bytes(), pb.Bytes()
		return nil
	}(); err != nil {
		return Figure{}, err
	}
	if o.Provenance != nil {
		var lines []string
		for _, kv := range o.Provenance.Fields() {
			lines = append(lines, kv[0]+": "+kv[1])
		}
		out.SVG = svgComment(out.SVG, strings.Join(lines, "\n"))
		var err error
		if out.PNG, err = pngText(out.PNG, "Comment", strings.Join(lines, "\n")); err != nil {
			return Figure{}, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return out, nil
}

// svgComment inserts an XML comment after the XML declaration.
func svgComment(svg []byte, s string) []byte {
	s = strings.ReplaceAll(s, "--", "- -")
	c := []byte("<!-- provenance\n" + s + "\n-->\n")
	i := bytes.Index(svg, []byte("?>"))
	if i < 0 {
		return append(c, svg...)
	}
	i += 2
	if i < len(svg) && svg[i] == '\n' {
		i++
	}
	out := append([]byte(nil), svg[:i]...)
	out = append(out, c...)
	return append(out, svg[i:]...)
}

// pngText inserts a tEXt chunk right after IHDR.
func pngText(png []byte, key, val string) ([]byte, error) {
	const sigLen, ihdrLen = 8, 8 + 13 + 4
	if len(png) < sigLen+ihdrLen || string(png[12:16]) != "IHDR" {
		return nil, fmt.Errorf("png text chunk: unexpected PNG layout")
	}
	// tEXt is Latin-1; replace anything else.
	var data []byte
	for _, r := range key + "\x00" + val {
		if r > 255 {
			r = '?'
		}
		data = append(data, byte(r))
	}
	var chunk bytes.Buffer
	_ = binary.Write(&chunk, binary.BigEndian, uint32(len(data)))
	chunk.WriteString("tEXt")
	chunk.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte("tEXt"))
	crc.Write(data)
	_ = binary.Write(&chunk, binary.BigEndian, crc.Sum32())
	at := sigLen + ihdrLen
	out := append([]byte(nil), png[:at]...)
	out = append(out, chunk.Bytes()...)
	return append(out, png[at:]...), nil
}

// newPanel returns a panel with a grid and smaller tick labels.
func newPanel(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = tickSize, tickSize
	p.X.Tick.Label.Handler, p.Y.Tick.Label.Handler = supHandler, supHandler
	p.Add(plotter.NewGrid())
	return p
}

// Glyph pairs: ours filled, the paper's the hollow glyph of the same shape.
var (
	filledGlyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}
	hollowGlyphs = []draw.GlyphDrawer{draw.RingGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}}
)

// seriesStyle is the look of series i: its color and glyph, filled (ours) or hollow (paper).
func seriesStyle(i int, paper bool) (color.Color, draw.GlyphStyle) {
	g := draw.GlyphStyle{Color: plotutil.Color(i), Radius: vg.Points(3), Shape: filledGlyphs[i%len(filledGlyphs)]}
	if paper {
		g.Shape = hollowGlyphs[i%len(hollowGlyphs)]
		g.Radius = vg.Points(3.5)
	}
	return g.Color, g
}

var (
	solid  = []vg.Length(nil)
	dashed = []vg.Length{vg.Points(5), vg.Points(3)}
	dotted = []vg.Length{vg.Points(1.5), vg.Points(2)}
)

// lineAndPoints returns a line and scatter of xys in the given color, glyph and dashes.
func lineAndPoints(xys plotter.XYs, c color.Color, g draw.GlyphStyle, dashes []vg.Length) (*plotter.Line, *plotter.Scatter, error) {
	line, pts, err := plotter.NewLinePoints(xys)
	if err != nil {
		return nil, nil, err
	}
	line.Color, line.Dashes = c, dashes
	line.Width = vg.Points(1.2)
	pts.GlyphStyle = g
	return line, pts, nil
}

// keyThumb is a legend thumbnail in black: a line with the given dashes and a glyph.
func keyThumb(g draw.GlyphDrawer, dashes []vg.Length, filled bool) []plot.Thumbnailer {
	var th []plot.Thumbnailer
	if dashes != nil || filled {
		l := &plotter.Line{LineStyle: draw.LineStyle{Color: color.Black, Width: vg.Points(1.2), Dashes: dashes}}
		th = append(th, l)
	}
	if g != nil {
		th = append(th, &plotter.Scatter{GlyphStyle: draw.GlyphStyle{Color: color.Black, Radius: vg.Points(3), Shape: g}})
	}
	return th
}

// xyErr implements plotter.XYer and plotter.YErrorer.
type xyErr struct {
	plotter.XYs
	plotter.YErrors
}

// shortType is a variant's tick label: "8-bit", "P-5", "5-bit", a classic code's own ("SEC-4").
func shortType(variant string) string {
	v, err := metrics.ParseVariant(variant)
	if err != nil {
		return variant
	}
	if v.Code != metrics.CodeNone {
		return v.String()
	}
	if v.Protected {
		return fmt.Sprintf("P-%d", v.Width)
	}
	return fmt.Sprintf("%d-bit", v.Width)
}

// tickLabel formats a tick value: %g with 3 significant digits and a short exponent
// ("1e-5", "2.5e+6" → "2.5e6", "0.01", "150").
func tickLabel(x float64) string {
	s := strconv.FormatFloat(x, 'g', 3, 64)
	mant, exp, ok := strings.Cut(s, "e")
	if !ok {
		return s
	}
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(exp, "+-0")
	if exp == "" {
		return mant
	}
	if neg {
		exp = "-" + exp
	}
	return mant + "e" + exp
}

// expLabel formats x in scientific notation with up to 3 significant digits and a short
// exponent: "1e-5", "2.5e3", "1e0".
func expLabel(x float64) string {
	mant, exp, _ := strings.Cut(strconv.FormatFloat(x, 'e', 2, 64), "e")
	if strings.Contains(mant, ".") {
		mant = strings.TrimSuffix(strings.TrimRight(mant, "0"), ".")
	}
	e, _ := strconv.Atoi(exp)
	return mant + "e" + strconv.Itoa(e)
}

// staggerTicks gives the labels of ticks placed at values on an axis of length axisLen over
// [lo, hi] (normalised by norm) a leading blank line each time a label would overlap its
// neighbour on the same line, so that no two labels overlap.
func staggerTicks(ticks []plot.Tick, lo, hi float64, norm plot.Normalizer, axisLen vg.Length, sty text.Style) []plot.Tick {
	sort.Slice(ticks, func(i, j int) bool { return ticks[i].Value < ticks[j].Value })
	lines := 1
	for _, t := range ticks {
		lines = max(lines, strings.Count(t.Label, "\n")+1)
	}
	var right []vg.Length // Right edge of the last label on each level.
	for i, t := range ticks {
		if t.Label == "" {
			continue
		}
		x := vg.Length(norm.Normalize(lo, hi, t.Value)) * axisLen
		half := sty.Width(t.Label) / 2
		level := 0
		for level < len(right) && x-half < right[level]+vg.Points(4) {
			level++
		}
		if level == len(right) {
			right = append(right, 0)
		}
		right[level] = x + half
		ticks[i].Label = strings.Repeat("\n", level*lines) + t.Label
	}
	return ticks
}

// paddedRange returns [lo, hi] widened by frac of its span on each side (linear), or a unit
// around a single value.
func paddedRange(lo, hi, frac float64) (float64, float64) {
	if lo == hi {
		d := math.Max(math.Abs(lo)*0.1, 1)
		return lo - d, hi + d
	}
	d := (hi - lo) * frac
	return lo - d, hi + d
}

// paddedLogRange returns log10 of positive lo ≤ hi, widened by frac of the decades
// spanned, or by half a decade around a single value.
func paddedLogRange(lo, hi, frac float64) (float64, float64) {
	l, h := math.Log10(lo), math.Log10(hi)
	if l == h {
		return l - 0.5, h + 0.5
	}
	return l - (h-l)*frac, h + (h-l)*frac
}

// niceTicks marks a linear axis with about five labelled ticks at multiples of 1, 2 or 5 ×
// 10^k (gonum/plot's default may pick steps such as 12 or 30) and unlabelled minor ticks
// between them.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(lo) || !finite(hi) {
		return nil
	}
	raw := (hi - lo) / 5
	k := int(math.Floor(math.Log10(raw)))
	m, minorDiv := 1.0, 5.0
	switch f := raw / math.Pow10(k); {
	case f > 5:
		m, k = 1, k+1
	case f > 2:
		m, minorDiv = 5, 5
	case f > 1:
		m, minorDiv = 2, 4
	}
	step := m * math.Pow10(k)
	decimals := max(0, -k)
	minor := step / minorDiv
	var ticks []plot.Tick
	for i := int(math.Ceil(lo/minor - 1e-9)); float64(i)*minor <= hi+1e-9*minor; i++ {
		v := float64(i) * minor
		t := plot.Tick{Value: v}
		if i%int(minorDiv) == 0 {
			t.Label = strconv.FormatFloat(v, 'f', decimals, 64)
			if strings.Trim(t.Label, "-0.") == "" {
				t.Label = strings.TrimPrefix(t.Label, "-") // Not "-0.00".
			}
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// log10Ticks marks an axis that shows log10 of the values (a log axis drawn on a linear
// scale: gonum/plot's LogScale sizes the space of a log axis's label as if the axis were
// linear, leaving a gap above the data): labelled powers of ten (every k-th decade when
// there are many, so at most about 7 labels), unlabelled minor ticks at 2…9 × 10^k over up
// to 8 decades, and labelled 2 and 5 × 10^k when fewer than two powers of ten fall in
// range. Ticks lie at log10 of their value; their labels give the value ("1e-5").
type log10Ticks struct {
	// powers writes the labels as powers of ten (PowerLabel) where e-notation would be used.
	powers bool
}

// Ticks implements plot.Ticker for the range [10^lo, 10^hi].
func (lt log10Ticks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi >= lo) || !finite(lo) || !finite(hi) {
		return nil
	}
	k0, k1 := int(math.Floor(lo)), int(math.Ceil(hi))
	in := func(lx float64) bool { return lx >= lo-1e-9 && lx <= hi+1e-9 }
	decades := 0
	for k := k0; k <= k1; k++ {
		if in(float64(k)) {
			decades++
		}
	}
	step := max(1, (decades+6)/7)
	// One notation on the axis: exponents throughout ("1e-5" … "1e0") if any label needs one,
	// or always when powers is set.
	exponents := lt.powers || k0 < -3 || k1 > 4
	var ticks []plot.Tick
	add := func(x float64, label bool) {
		lx := math.Log10(x)
		if !in(lx) { // gonum/plot would make room for labels out of range too.
			return
		}
		t := plot.Tick{Value: lx}
		switch {
		case label && exponents && lt.powers:
			t.Label = PowerLabel(x)
		case label && exponents:
			t.Label = expLabel(x)
		case label:
			t.Label = tickLabel(x)
		}
		ticks = append(ticks, t)
	}
	for k := k0; k <= k1; k++ {
		d := math.Pow10(k)
		add(d, k%step == 0)
		if k1-k0 > 8 {
			continue
		}
		for m := 2; m <= 9; m++ {
			add(float64(m)*d, decades < 2 && (m == 2 || m == 5))
		}
	}
	return ticks
}

// noteNegatives returns negFootnote when any value is negative, for a figure's notes.
func noteNegatives(negative bool) []string {
	if negative {
		return []string{negFootnote}
	}
	return nil
}

// Figure5 plots vulnerability (pp) against memory utilization (Mbit): one panel per model,
// one color per BER. Ours are filled markers with 95 % confidence-interval bars, joined by a
// solid line through the protected family (8-bit, P-w) and a dashed one through the
// unprotected (8-bit, w-bit); classic codes are left out, with a note naming them; the paper's Table II values, where it has the model, are hollow
// markers on dotted lines. The x ticks name the variants at their memory; one legend above
// the panels serves them all.
func Figure5(rows []Row, opts FigureOptions) (Figure, error) {
	o := opts.withDefaults()
	paper, err := paperByModel(o)
	if err != nil {
		return Figure{}, fmt.Errorf("figure 5: %w", err)
	}
	models, groups := byModel(rows)
	allBERs := unionBERs(rows)
	berIndex := func(b float64) int {
		for i, x := range allBERs {
			if sameBER(x, b) {
				return i
			}
		}
		allBERs = append(allBERs, b)
		return len(allBERs) - 1
	}
	fig := figure{name: "figure5"}
	usedBER := map[int]bool{}
	anyUnprot, anyPaper, anyNeg, anyCI := false, false, false, false
	var codes []string // Classic codes left out (docs/method.md §12).
	for _, m := range models {
		var rs []Row
		for _, r := range groups[m] {
			if v, err := metrics.ParseVariant(r.Variant); err == nil && v.Code != metrics.CodeNone {
				if !slices.Contains(codes, r.Variant) {
					codes = append(codes, r.Variant)
				}
				continue
			}
			rs = append(rs, r)
		}
		pr := paperRowsFor(paper, m)
		p := newPanel(m, "Memory utilization (Mbit) and variant", "Vulnerability (pp)")
		n := 0
		for _, b := range unionBERs(append(append([]Row(nil), rs...), pr...)) {
			bi := berIndex(b)
			c, gl := seriesStyle(bi, false)
			// Ours: one line per family, points and CI bars.
			family := map[bool]plotter.XYs{} // Unprotected → points.
			var xys plotter.XYs
			var errs plotter.YErrors
			hasErr := false
			for _, r := range rs {
				s, ok := r.At(b)
				if !ok || !finite(s.VulMean) {
					continue
				}
				v, err := metrics.ParseVariant(r.Variant)
				if err != nil {
					return Figure{}, fmt.Errorf("figure 5, %s: %w", m, err)
				}
				pt := plotter.XY{X: float64(r.MemoryBits) / 1e6, Y: s.VulMean}
				xys = append(xys, pt)
				anyNeg = anyNeg || s.VulMean < 0
				if v.Width == 8 && !v.Protected {
					family[false] = append(family[false], pt)
					family[true] = append(family[true], pt)
				} else {
					family[!v.Protected] = append(family[!v.Protected], pt)
					anyUnprot = anyUnprot || !v.Protected
				}
				lo, hi := 0.0, 0.0
				if finite(s.CILow) && finite(s.CIHigh) {
					lo, hi, hasErr = s.VulMean-s.CILow, s.CIHigh-s.VulMean, true
				}
				errs = append(errs, struct{ Low, High float64 }{lo, hi})
			}
			if len(xys) > 0 {
				for _, unprot := range []bool{false, true} {
					f := family[unprot]
					if len(f) < 2 { // The 8-bit point alone: the family is not in the run.
						continue
					}
					sort.Slice(f, func(i, j int) bool { return f[i].X < f[j].X })
					l, err := plotter.NewLine(f)
					if err != nil {
						return Figure{}, fmt.Errorf("figure 5, %s BER %g: %w", m, b, err)
					}
					l.Color, l.Width = c, vg.Points(1.2)
					if unprot {
						l.Dashes = dashed
					}
					p.Add(l)
				}
				if hasErr {
					eb, err := plotter.NewYErrorBars(xyErr{xys, errs})
					if err != nil {
						return Figure{}, fmt.Errorf("figure 5, %s BER %g error bars: %w", m, b, err)
					}
					eb.Color = c
					eb.CapWidth = vg.Points(5)
					p.Add(eb)
					anyCI = true
				}
				sc, err := plotter.NewScatter(xys)
				if err != nil {
					return Figure{}, fmt.Errorf("figure 5, %s BER %g: %w", m, b, err)
				}
				sc.GlyphStyle = gl
				p.Add(sc)
				usedBER[bi] = true
				n++
			}
			// The paper's.
			var pxys plotter.XYs
			for _, r := range pr {
				if s, ok := r.At(b); ok && finite(s.VulMean) {
					pxys = append(pxys, plotter.XY{X: float64(r.MemoryBits) / 1e6, Y: s.VulMean})
				}
			}
			if len(pxys) > 0 {
				pc, pg := seriesStyle(bi, true)
				l, sc, err := lineAndPoints(pxys, pc, pg, dotted)
				if err != nil {
					return Figure{}, fmt.Errorf("figure 5, paper %s BER %g: %w", m, b, err)
				}
				p.Add(l, sc)
				usedBER[bi], anyPaper = true, true
				n++
			}
		}
		if n == 0 {
			continue
		}
		// Ticks at the variants' memories, those sharing a memory on one label.
		names := map[int64][]string{}
		for _, r := range rs {
			if !slices.Contains(names[r.MemoryBits], shortType(r.Variant)) {
				names[r.MemoryBits] = append(names[r.MemoryBits], shortType(r.Variant))
			}
		}
		for _, r := range pr {
			if _, ok := names[r.MemoryBits]; !ok {
				names[r.MemoryBits] = []string{"paper " + shortType(r.Variant)}
			}
		}
		var ticks []plot.Tick
		lo, hi := math.Inf(1), math.Inf(-1)
		for mem, ns := range names {
			x := float64(mem) / 1e6
			lo, hi = math.Min(lo, x), math.Max(hi, x)
			ticks = append(ticks, plot.Tick{Value: x, Label: strings.Join(ns, ", ") + "\n" + tickLabel(x)})
		}
		p.Y.Tick.Marker = niceTicks{}
		p.Y.Min = math.Min(p.Y.Min, 0) // A drop axis starts at 0 at the latest.
		p.X.Min, p.X.Max = paddedRange(lo, hi, 0.08)
		p.X.Tick.Marker = plot.ConstantTicks(staggerTicks(ticks, p.X.Min, p.X.Max, plot.LinearScale{},
			o.PanelWidth-2.4*vg.Centimeter, p.X.Tick.Label))
		fig.panels = append(fig.panels, p)
	}
	if len(fig.panels) == 0 {
		return Figure{}, fmt.Errorf("figure 5: %w: no finite vulnerability", ErrNothingToPlot)
	}
	for i, b := range allBERs {
		if usedBER[i] {
			c, g := seriesStyle(i, false)
			fig.legend = append(fig.legend, legendEntry{"BER " + o.berLabel(b), []plot.Thumbnailer{
				&plotter.Line{LineStyle: draw.LineStyle{Color: c, Width: vg.Points(1.2)}}, &plotter.Scatter{GlyphStyle: g}}})
		}
	}
	switch {
	case anyCI:
		fig.legend = append(fig.legend, legendEntry{"ours (bars: 95 % CI of the mean)", keyThumb(draw.CircleGlyph{}, solid, true)})
	case anyPaper:
		fig.legend = append(fig.legend, legendEntry{"ours", keyThumb(draw.CircleGlyph{}, solid, true)})
	}
	if anyUnprot {
		fig.legend = append(fig.legend, legendEntry{"ours, unprotected w-bit", keyThumb(nil, dashed, false)})
	}
	if anyPaper {
		fig.legend = append(fig.legend, legendEntry{"paper (Table II)", keyThumb(draw.RingGlyph{}, dotted, false)})
	}
	if anyNeg {
		fig.notes = []string{"Points below 0 are negative mean accuracy drops: on average the faulty trials " +
			"classified more inputs correctly than the fault-free network. Faults do not improve a network; " +
			"this is sampling noise around 0 (see the bars)."}
	}
	if len(codes) > 0 {
		// Several codes share a memory with a P-w or w-bit variant (SEC-3 and TMR-2 with P-4):
		// on this figure's axes their points would sit on top of each other, unlabelled.
		fig.notes = append(fig.notes, "Not drawn: the classic codes "+strings.Join(codes, ", ")+
			" (their vulnerabilities are in Table II and Figure 6).")
	}
	return fig.render(o)
}

// omitted is a value a log axis cannot show.
type omitted struct {
	who, variant string
	ber, value   float64
}

// describeOmitted says, for one model, which values were left out of Figure 6 and why;
// missing says why a value can be missing.
func describeOmitted(model string, om []omitted, missing string, o FigureOptions) string {
	allMissing := true
	for _, x := range om {
		allMissing = allMissing && math.IsNaN(x.value)
	}
	if allMissing {
		var who []string
		for _, x := range om {
			if !slices.Contains(who, x.who) {
				who = append(who, x.who)
			}
		}
		return fmt.Sprintf("%s (%s): no value at all (%s).", model, strings.Join(who, ", "), missing)
	}
	var parts []string
	for i := 0; i < len(om); {
		j := i
		var at []string
		for ; j < len(om) && om[j].who == om[i].who && om[j].variant == om[i].variant; j++ {
			v := "no value"
			if !math.IsNaN(om[j].value) {
				v = o.numLabel(om[j].value)
			}
			at = append(at, fmt.Sprintf("%s (%s)", o.berLabel(om[j].ber), v))
		}
		parts = append(parts, fmt.Sprintf("%s %s at %s", om[i].who, PaperType(om[i].variant), strings.Join(at, ", ")))
		i = j
	}
	return model + ": " + strings.Join(parts, "; ") + "."
}

// Figure6 plots P_drop against BER on log-log axes: one panel per model, one color per
// variant; ours filled markers on solid lines, the paper's hollow markers on dotted lines
// (its printed Table II values in metrics.LegacyTable mode, its Eq. 6 recomputed from its
// Table II vulnerabilities otherwise). A log axis cannot show a P_drop ≤ 0 (a zero or, from
// noise, negative mean drop): such values are listed in a note under the panels, and the
// axes span only the values drawn.
func Figure6(rows []Row, opts FigureOptions) (Figure, error) {
	o := opts.withDefaults()
	if o.PDrop != metrics.BERMatched && o.PDrop != metrics.LegacyTable {
		return Figure{}, fmt.Errorf("figure 6: unknown P_drop mode %v", o.PDrop)
	}
	paper, err := paperByModel(o)
	if err != nil {
		return Figure{}, fmt.Errorf("figure 6: %w", err)
	}
	value := func(s BERStat) float64 {
		if o.PDrop == metrics.LegacyTable {
			return s.PDropLegacy
		}
		return s.PDropEq6
	}
	var variants []string // Union, for one color per variant across panels.
	for _, r := range rows {
		if !slices.Contains(variants, r.Variant) {
			variants = append(variants, r.Variant)
		}
	}
	models, groups := byModel(rows)
	for _, m := range models {
		for _, r := range paperRowsFor(paper, m) {
			if !slices.Contains(variants, r.Variant) {
				variants = append(variants, r.Variant)
			}
		}
	}
	vIndex := func(v string) int {
		for i, x := range variants {
			if x == v {
				return i
			}
		}
		return 0
	}
	yLabel, missing := "P_drop (Eq. 6)", "not measured"
	var definition []string
	if o.PDrop == metrics.LegacyTable {
		ref := o.berLabel(metrics.LegacyBER)
		yLabel, missing = "P_drop (Table II definition)", "the Table II definition needs the drop at BER "+ref+", which was not measured"
		definition = []string{"P_drop as the paper's Table II computes it: Eq. 6 with the accuracy drop at BER " + ref + " at every BER."}
	}
	fig := figure{name: "figure6"}
	used := map[int]bool{}
	anyPaper, anyNeg := false, false
	var notes []string
	for _, m := range models {
		p := newPanel(m, "BER", yLabel)
		var om []omitted
		xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		var bers []float64
		n := 0
		series := []struct {
			who  string
			rows []Row
		}{{"ours", groups[m]}, {"paper", paperRowsFor(paper, m)}}
		for _, sr := range series {
			isPaper := sr.who == "paper"
			for _, r := range sr.rows {
				// Runs of consecutive BERs drawn: the line breaks where a value is left out.
				var xys plotter.XYs
				runs := []plotter.XYs{nil}
				per := append([]BERStat(nil), r.PerBER...)
				sort.Slice(per, func(i, j int) bool { return per[i].BER < per[j].BER })
				for _, s := range per {
					v := value(s)
					if !(v > 0) || !finite(v) || !(s.BER > 0) {
						om = append(om, omitted{sr.who, r.Variant, s.BER, v})
						anyNeg = anyNeg || v < 0
						if len(runs[len(runs)-1]) > 0 {
							runs = append(runs, nil)
						}
						continue
					}
					pt := plotter.XY{X: math.Log10(s.BER), Y: math.Log10(v)}
					xys = append(xys, pt)
					runs[len(runs)-1] = append(runs[len(runs)-1], pt)
					xlo, xhi, ylo, yhi = math.Min(xlo, s.BER), math.Max(xhi, s.BER), math.Min(ylo, v), math.Max(yhi, v)
					found := false
					for _, b := range bers {
						found = found || sameBER(b, s.BER)
					}
					if !found {
						bers = append(bers, s.BER)
					}
				}
				if len(xys) == 0 {
					continue
				}
				vi := vIndex(r.Variant)
				c, g := seriesStyle(vi, isPaper)
				dashes := solid
				if isPaper {
					dashes = dotted
				}
				for _, run := range runs {
					if len(run) < 2 {
						continue
					}
					l, err := plotter.NewLine(run)
					if err != nil {
						return Figure{}, fmt.Errorf("figure 6, %s %s: %w", m, r.Variant, err)
					}
					l.Color, l.Dashes, l.Width = c, dashes, vg.Points(1.2)
					p.Add(l)
				}
				sc, err := plotter.NewScatter(xys)
				if err != nil {
					return Figure{}, fmt.Errorf("figure 6, %s %s: %w", m, r.Variant, err)
				}
				sc.GlyphStyle = g
				p.Add(sc)
				used[vi] = true
				anyPaper = anyPaper || isPaper
				n++
			}
		}
		if len(om) > 0 {
			notes = append(notes, describeOmitted(m, om, missing, o))
		}
		if n == 0 {
			continue
		}
		p.X.Min, p.X.Max = paddedLogRange(xlo, xhi, 0.05)
		p.Y.Min, p.Y.Max = paddedLogRange(ylo, yhi, 0.05)
		var xt []plot.Tick
		for _, b := range bers {
			xt = append(xt, plot.Tick{Value: math.Log10(b), Label: o.berLabel(b)})
		}
		p.X.Tick.Marker = plot.ConstantTicks(staggerTicks(xt, p.X.Min, p.X.Max, plot.LinearScale{},
			o.PanelWidth-2.4*vg.Centimeter, p.X.Tick.Label))
		p.Y.Tick.Marker = log10Ticks{powers: o.PowersOfTen}
		fig.panels = append(fig.panels, p)
	}
	if len(fig.panels) == 0 {
		return Figure{}, fmt.Errorf("figure 6: %w: no positive P_drop", ErrNothingToPlot)
	}
	for i, v := range variants {
		if used[i] {
			c, g := seriesStyle(i, false)
			fig.legend = append(fig.legend, legendEntry{PaperType(v), []plot.Thumbnailer{
				&plotter.Line{LineStyle: draw.LineStyle{Color: c, Width: vg.Points(1.2)}}, &plotter.Scatter{GlyphStyle: g}}})
		}
	}
	if anyPaper {
		fig.legend = append(fig.legend, legendEntry{"ours", keyThumb(draw.CircleGlyph{}, solid, true)})
		label := "paper (Eq. 6 from its Table II vulnerabilities)"
		if o.PDrop == metrics.LegacyTable {
			label = "paper (Table II)"
		}
		fig.legend = append(fig.legend, legendEntry{label, keyThumb(draw.RingGlyph{}, dotted, false)})
	}
	fig.notes = definition
	if len(notes) > 0 {
		fig.notes = append(fig.notes, "Not drawn, because a log axis has no place for a P_drop ≤ 0 (a mean accuracy drop of 0 or below) or a missing value:")
		fig.notes = append(fig.notes, notes...)
	}
	fig.notes = append(fig.notes, noteNegatives(anyNeg)...)
	return fig.render(o)
}

// barMarks draws, for bars of a BarChart with the same Offset, a horizontal line across the
// bar at each value (the paper's) and/or a text mark just above the bar (above its base for
// a negative bar, where a mark below would run into the axis labels).
type barMarks struct {
	xys    plotter.XYs
	offset vg.Length
	width  vg.Length
	line   draw.LineStyle // Zero width: no line.
	mark   string         // Empty: no text.
}

// Plot implements plot.Plotter.
func (b barMarks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := textStyle(markSize)
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
	for _, pt := range b.xys {
		x, y := trX(pt.X)+b.offset, trY(pt.Y)
		if b.line.Width > 0 {
			c.StrokeLine2(b.line, x-b.width/2, y, x+b.width/2, y)
		}
		if b.mark != "" {
			c.FillText(sty, vg.Point{X: x, Y: max(y, trY(0)) + vg.Points(1)}, b.mark)
		}
	}
}

// DataRange implements plot.DataRanger.
func (b barMarks) DataRange() (xmin, xmax, ymin, ymax float64) {
	return plotter.XYRange(b.xys)
}

// Thumbnail implements plot.Thumbnailer: the line.
func (b barMarks) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(b.line, c.Min.X, y, c.Max.X, y)
}

// Figure7 plots RAP (Eq. 7) as grouped bars: one panel per model, one group per variant,
// one bar per BER. Where the paper has the model, a black line across each bar marks the
// paper's RAP recomputed from its Table II (its Figure 7 prints no numbers). A negative RAP
// (noise) is marked † and explained under the panels. Missing values are zero-height bars.
func Figure7(rows []Row, opts FigureOptions) (Figure, error) {
	o := opts.withDefaults()
	paper, err := paperByModel(o)
	if err != nil {
		return Figure{}, fmt.Errorf("figure 7: %w", err)
	}
	models, groups := byModel(rows)
	allBERs := unionBERs(rows)
	fig := figure{name: "figure7"}
	paperLine := draw.LineStyle{Color: color.Black, Width: vg.Points(2)}
	used := map[int]bool{}
	anyPaper, anyNeg := false, false
	for _, m := range models {
		rs := groups[m]
		bers := unionBERs(rs)
		if len(bers) == 0 {
			continue
		}
		p := newPanel(m, "", "RAP (pp)")
		var names []string
		for _, r := range rs {
			names = append(names, PaperType(r.Variant))
		}
		barW := (o.PanelWidth - 2.4*vg.Centimeter) * 0.8 / vg.Length(len(rs)*len(bers)+len(rs))
		hasAny := false
		for _, b := range bers {
			bi := 0
			for i, x := range allBERs {
				if sameBER(x, b) {
					bi = i
				}
			}
			vals := make(plotter.Values, len(rs))
			var neg, pap plotter.XYs
			for i, r := range rs {
				if s, ok := r.At(b); ok && finite(s.RAP) {
					vals[i] = s.RAP
					hasAny = true
					if s.RAP < 0 {
						neg = append(neg, plotter.XY{X: float64(i), Y: s.RAP})
					}
				}
				if pr, ok := paper[NormalizeModel(m)][r.Variant]; ok {
					if s, ok := pr.At(b); ok && finite(s.RAP) {
						pap = append(pap, plotter.XY{X: float64(i), Y: s.RAP})
					}
				}
			}
			bc, err := plotter.NewBarChart(vals, barW)
			if err != nil {
				return Figure{}, fmt.Errorf("figure 7, %s BER %g: %w", m, b, err)
			}
			bc.Color = plotutil.Color(bi)
			bc.LineStyle.Width = 0
			bc.Offset = vg.Length(float64(indexOf(bers, b))-float64(len(bers)-1)/2) * barW
			p.Add(bc)
			used[bi] = true
			if len(pap) > 0 {
				p.Add(barMarks{xys: pap, offset: bc.Offset, width: barW, line: paperLine})
				anyPaper = true
			}
			if len(neg) > 0 {
				p.Add(barMarks{xys: neg, offset: bc.Offset, mark: negMark})
				anyNeg = true
			}
		}
		if !hasAny {
			continue
		}
		p.Y.Tick.Marker = niceTicks{}
		if p.Y.Max > 0 {
			p.Y.Max += 0.05 * (p.Y.Max - math.Min(p.Y.Min, 0)) // Room for the marks above the bars.
		}
		if p.Y.Min < 0 {
			p.Y.Min -= 0.05 * (p.Y.Max - p.Y.Min)
		}
		p.NominalX(names...)
		p.X.Tick.Marker = plot.ConstantTicks(staggerTicks(p.X.Tick.Marker.Ticks(0, float64(len(names)-1)),
			-0.5, float64(len(names))-0.5, plot.LinearScale{}, o.PanelWidth-2.4*vg.Centimeter, p.X.Tick.Label))
		fig.panels = append(fig.panels, p)
	}
	if len(fig.panels) == 0 {
		return Figure{}, fmt.Errorf("figure 7: %w: no finite RAP", ErrNothingToPlot)
	}
	for i, b := range allBERs {
		if used[i] {
			bc := &plotter.BarChart{Color: plotutil.Color(i)}
			fig.legend = append(fig.legend, legendEntry{"BER " + o.berLabel(b), []plot.Thumbnailer{bc}})
		}
	}
	if anyPaper {
		fig.legend = append(fig.legend, legendEntry{"paper (RAP from its Table II)", []plot.Thumbnailer{barMarks{line: paperLine}}})
	}
	fig.notes = append([]string{"RAP = vulnerability × memory ratio × execution-time ratio against the model's 8-bit row (Eq. 7)."},
		noteNegatives(anyNeg)...)
	return fig.render(o)
}

// indexOf returns the index of BER b in bers, or -1.
func indexOf(bers []float64, b float64) int {
	for i, x := range bers {
		if sameBER(x, b) {
			return i
		}
	}
	return -1
}
