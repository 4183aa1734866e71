package report

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image/color"
	"math"
	"path/filepath"
	"sort"
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

	"github.com/fortune-go/fortune/fortune/metrics"
)

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
	if err := WriteFileAtomic(svgPath, f.SVG, 0); err != nil {
		return "", "", fmt.Errorf("save figure %s: %w", f.Name, err)
	}
	if err := WriteFileAtomic(pngPath, f.PNG, 0); err != nil {
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
	// Provenance, if set, is embedded as an SVG comment and a PNG tEXt chunk.
	Provenance *Provenance
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

// byModel groups rows by normalized model name in order of first appearance.
func byModel(rows []Row) (models []string, groups map[string][]Row) {
	groups = map[string][]Row{}
	for _, r := range rows {
		m := NormalizeModel(r.Model)
		if _, ok := groups[m]; !ok {
			models = append(models, m)
		}
		groups[m] = append(groups[m], r)
	}
	return models, groups
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

// render draws the panel grid onto SVG and PNG canvases.
func render(name string, panels []*plot.Plot, o FigureOptions) (Figure, error) {
	if len(panels) == 0 {
		return Figure{}, fmt.Errorf("%s: nothing to plot", name)
	}
	g := grid(panels)
	rows, cols := len(g), len(g[0])
	titleH := vg.Length(0)
	if o.Title != "" {
		titleH = 1 * vg.Centimeter
	}
	w := o.PanelWidth * vg.Length(cols)
	h := o.PanelHeight*vg.Length(rows) + titleH
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: 4 * vg.Millimeter, PadY: 4 * vg.Millimeter,
		PadTop: titleH + 2*vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 2 * vg.Millimeter}
	drawAll := func(c vg.CanvasSizer) {
		dc := draw.New(c)
		dc.FillPolygon(color.White, []vg.Point{{X: dc.Min.X, Y: dc.Min.Y}, {X: dc.Max.X, Y: dc.Min.Y}, {X: dc.Max.X, Y: dc.Max.Y}, {X: dc.Min.X, Y: dc.Max.Y}})
		if o.Title != "" {
			sty := text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, 14), Handler: plot.DefaultTextHandler,
				XAlign: draw.XCenter, YAlign: draw.YTop}
			dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - 2*vg.Millimeter}, o.Title)
		}
		canvases := plot.Align(g, tiles, dc)
		for i := range g {
			for j, p := range g[i] {
				if p != nil {
					p.Draw(canvases[i][j])
				}
			}
		}
	}
	var fig Figure
	fig.Name = name
	if err := func() (err error) {
		// gonum/plot panics on some degenerate inputs; report them as errors.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%s: drawing failed: %v", name, r)
			}
		}()
		sc := vgsvg.New(w, h)
		drawAll(sc)
		var sb bytes.Buffer
		if _, err := sc.WriteTo(&sb); err != nil {
			return fmt.Errorf("%s: write svg: %w", name, err)
		}
		ic := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(o.DPI))
		drawAll(ic)
		var pb bytes.Buffer
		if _, err := (vgimg.PngCanvas{Canvas: ic}).WriteTo(&pb); err != nil {
			return fmt.Errorf("%s: write png: %w", name, err)
		}
		fig.SVG, fig.PNG = sb.Bytes(), pb.Bytes()
		return nil
	}(); err != nil {
		return Figure{}, err
	}
	if o.Provenance != nil {
		var lines []string
		for _, kv := range o.Provenance.Fields() {
			lines = append(lines, kv[0]+": "+kv[1])
		}
		fig.SVG = svgComment(fig.SVG, strings.Join(lines, "\n"))
		var err error
		if fig.PNG, err = pngText(fig.PNG, "Comment", strings.Join(lines, "\n")); err != nil {
			return Figure{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	return fig, nil
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

// styleLegend shrinks the legend and makes room for it above the data.
func styleLegend(p *plot.Plot, entries int, logY bool) {
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Legend.ThumbnailWidth = vg.Points(16)
	frac := 0.12 + 0.07*float64(entries)
	if logY {
		if p.Y.Min > 0 && p.Y.Max > p.Y.Min {
			p.Y.Max *= math.Pow(p.Y.Max/p.Y.Min, frac)
		}
		return
	}
	if p.Y.Max > p.Y.Min {
		p.Y.Max += (p.Y.Max - p.Y.Min) * frac
	}
}

// xyErr implements plotter.XYer and plotter.YErrorer.
type xyErr struct {
	plotter.XYs
	plotter.YErrors
}

// Figure5 plots vulnerability (pp) against memory utilization (Mbit): one
// panel per model, one series per BER, every point labelled by its variant,
// with confidence-interval error bars where known.
func Figure5(rows []Row, opts FigureOptions) (Figure, error) {
	o := opts.withDefaults()
	models, groups := byModel(rows)
	var panels []*plot.Plot
	for _, m := range models {
		rs := append([]Row(nil), groups[m]...)
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].MemoryBits < rs[j].MemoryBits })
		p := plot.New()
		p.Title.Text = m
		p.X.Label.Text = "Memory utilization (Mbit)"
		p.Y.Label.Text = "Vulnerability (pp)"
		p.Legend.Top = true
		p.Add(plotter.NewGrid())
		n := 0
		for bi, b := range unionBERs(rs) {
			var xys plotter.XYs
			var errs plotter.YErrors
			var labels []string
			hasErr := false
			for _, r := range rs {
				s, ok := r.At(b)
				if !ok || !finite(s.VulMean) {
					continue
				}
				xys = append(xys, plotter.XY{X: float64(r.MemoryBits) / 1e6, Y: s.VulMean})
				lo, hi := 0.0, 0.0
				if finite(s.CILow) && finite(s.CIHigh) {
					lo, hi, hasErr = s.VulMean-s.CILow, s.CIHigh-s.VulMean, true
				}
				errs = append(errs, struct{ Low, High float64 }{lo, hi})
				labels = append(labels, r.Variant)
			}
			if len(xys) == 0 {
				continue
			}
			line, pts, err := plotter.NewLinePoints(xys)
			if err != nil {
				return Figure{}, fmt.Errorf("figure 5, %s BER %g: %w", m, b, err)
			}
			line.Color = plotutil.Color(bi)
			pts.Color = plotutil.Color(bi)
			pts.Shape = plotutil.Shape(bi)
			p.Add(line, pts)
			p.Legend.Add("BER "+BERLabel(b), line, pts)
			if hasErr {
				eb, err := plotter.NewYErrorBars(xyErr{xys, errs})
				if err != nil {
					return Figure{}, fmt.Errorf("figure 5, %s BER %g error bars: %w", m, b, err)
				}
				eb.Color = plotutil.Color(bi)
				p.Add(eb)
			}
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
			if err != nil {
				return Figure{}, fmt.Errorf("figure 5, %s BER %g labels: %w", m, b, err)
			}
			for i := range lb.TextStyle {
				lb.TextStyle[i].Font.Size = 7
				lb.TextStyle[i].Color = plotutil.Color(bi)
			}
			lb.Offset = vg.Point{X: 2, Y: 2}
			p.Add(lb)
			n++
		}
		if n == 0 {
			continue
		}
		styleLegend(p, n, false)
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		return Figure{}, fmt.Errorf("figure 5: no finite vulnerability to plot")
	}
	return render("figure5", panels, o)
}

// Figure6 plots P_drop against BER on log-log axes: one panel per model, one
// series per variant. Non-positive values cannot be drawn and are skipped.
func Figure6(rows []Row, opts FigureOptions) (Figure, error) {
	o := opts.withDefaults()
	if o.PDrop != metrics.BERMatched && o.PDrop != metrics.LegacyTable {
		return Figure{}, fmt.Errorf("figure 6: unknown P_drop mode %v", o.PDrop)
	}
	models, groups := byModel(rows)
	var panels []*plot.Plot
	for _, m := range models {
		p := plot.New()
		p.Title.Text = m
		p.X.Label.Text = "BER"
		p.Y.Label.Text = "P_drop"
		if o.PDrop == metrics.LegacyTable {
			p.Y.Label.Text = "P_drop (legacy)"
		}
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
		p.Legend.Top = true
		p.Legend.Left = true
		p.Add(plotter.NewGrid())
		n := 0
		for vi, r := range groups[m] {
			var xys plotter.XYs
			for _, s := range r.PerBER {
				v := s.PDropEq6
				if o.PDrop == metrics.LegacyTable {
					v = s.PDropLegacy
				}
				if finite(v) && v > 0 && s.BER > 0 {
					xys = append(xys, plotter.XY{X: s.BER, Y: v})
				}
			}
			if len(xys) == 0 {
				continue
			}
			sort.Slice(xys, func(i, j int) bool { return xys[i].X < xys[j].X })
			line, pts, err := plotter.NewLinePoints(xys)
			if err != nil {
				return Figure{}, fmt.Errorf("figure 6, %s %s: %w", m, r.Variant, err)
			}
			line.Color, pts.Color, pts.Shape = plotutil.Color(vi), plotutil.Color(vi), plotutil.Shape(vi)
			line.Dashes = plotutil.Dashes(vi)
			p.Add(line, pts)
			p.Legend.Add(PaperType(r.Variant), line, pts)
			n++
		}
		if n > 0 {
			widenLogAxis(&p.X)
			widenLogAxis(&p.Y)
			styleLegend(p, n, true)
			panels = append(panels, p)
		}
	}
	if len(panels) == 0 {
		return Figure{}, fmt.Errorf("figure 6: no positive P_drop to plot")
	}
	return render("figure6", panels, o)
}

// Figure7 plots RAP as grouped bars: one panel per model, one group per
// variant, one bar per BER. Missing values are drawn as zero-height bars.
func Figure7(rows []Row, opts FigureOptions) (Figure, error) {
	o := opts.withDefaults()
	models, groups := byModel(rows)
	var panels []*plot.Plot
	for _, m := range models {
		rs := groups[m]
		bers := unionBERs(rs)
		if len(bers) == 0 {
			continue
		}
		p := plot.New()
		p.Title.Text = m
		p.Y.Label.Text = "RAP"
		p.Legend.Top = true
		p.Add(plotter.NewGrid())
		var names []string
		for _, r := range rs {
			names = append(names, PaperType(r.Variant))
		}
		barW := o.PanelWidth * 0.7 / vg.Length(len(rs)*len(bers)+len(rs))
		hasAny := false
		for bi, b := range bers {
			vals := make(plotter.Values, len(rs))
			for i, r := range rs {
				if s, ok := r.At(b); ok && finite(s.RAP) {
					vals[i] = s.RAP
					hasAny = true
				}
			}
			bc, err := plotter.NewBarChart(vals, barW)
			if err != nil {
				return Figure{}, fmt.Errorf("figure 7, %s BER %g: %w", m, b, err)
			}
			bc.Color = plotutil.Color(bi)
			bc.LineStyle.Width = 0
			bc.Offset = vg.Length(float64(bi)-float64(len(bers)-1)/2) * barW
			p.Add(bc)
			p.Legend.Add("BER "+BERLabel(b), bc)
		}
		if !hasAny {
			continue
		}
		p.NominalX(names...)
		styleLegend(p, len(bers), false)
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		return Figure{}, fmt.Errorf("figure 7: no finite RAP to plot")
	}
	return render("figure7", panels, o)
}

// widenLogAxis gives a log axis whose data span a single value (one BER, one point) a decade
// of room on each side; a log scale cannot draw an empty range.
func widenLogAxis(a *plot.Axis) {
	if a.Min == a.Max && a.Min > 0 {
		a.Min, a.Max = a.Min/10, a.Max*10
	}
}
