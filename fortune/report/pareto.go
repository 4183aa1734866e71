package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/fortune-go/fortune/fortune/metrics"
)

// ParetoPoint is one variant in a panel of the Pareto figure: its stored bits per weight W
// and a value where higher is better, its accuracy under faults (%: the variant's fault-free
// accuracy minus its mean drop), with the bounds of its 95 % confidence interval (NaN when
// unknown, e.g. from a single trial).
type ParetoPoint struct {
	W              int
	Mean, Lo, High float64
}

// ParetoFrontier marks the points on the Pareto frontier of memory (W) against accuracy:
// a point is on it when no other point has W' ≤ W and a higher mean, nor W' < W and an equal
// mean (it is not dominated; two points with equal W and equal mean are both on it). Points
// with a NaN or infinite mean are never on it, nor count against others.
func ParetoFrontier(pts []ParetoPoint) []bool {
	on := make([]bool, len(pts))
	for i, p := range pts {
		if !finite(p.Mean) {
			continue
		}
		on[i] = true
		for j, q := range pts {
			if j == i || !finite(q.Mean) {
				continue
			}
			if q.W <= p.W && (q.Mean > p.Mean || (q.Mean == p.Mean && q.W < p.W)) {
				on[i] = false
				break
			}
		}
	}
	return on
}

// ParetoRank says how a point compares with the others of its W.
type ParetoRank int

const (
	// ParetoWorse: clearly worse than the best at its W (their intervals are apart), or no
	// finite mean.
	ParetoWorse ParetoRank = iota
	// ParetoTied: not the highest mean at its W, but its 95 % interval overlaps the best's (or
	// its mean equals the best's), so the data do not tell them apart.
	ParetoTied
	// ParetoBest: the highest mean at its W (all points sharing that highest mean are best).
	ParetoBest
)

// ParetoBestAtW ranks each point against the points of the same W: ParetoBest for the highest
// finite mean, ParetoTied for a point whose interval [Lo, High] overlaps a best point's (both
// intervals known), or whose mean equals the best's, and ParetoWorse otherwise.
func ParetoBestAtW(pts []ParetoPoint) []ParetoRank {
	rank := make([]ParetoRank, len(pts))
	best := map[int]float64{}
	for _, p := range pts {
		if b, ok := best[p.W]; finite(p.Mean) && (!ok || p.Mean > b) {
			best[p.W] = p.Mean
		}
	}
	known := func(p ParetoPoint) bool { return finite(p.Lo) && finite(p.High) }
	for i, p := range pts {
		if !finite(p.Mean) {
			continue
		}
		if p.Mean == best[p.W] {
			rank[i] = ParetoBest
			continue
		}
		for _, q := range pts {
			if q.W == p.W && finite(q.Mean) && q.Mean == best[p.W] && known(p) && known(q) && p.Lo <= q.High && q.Lo <= p.High {
				rank[i] = ParetoTied
				break
			}
		}
	}
	return rank
}

// ParetoWidths returns the distinct W of the rows' variants (metrics.Variant.StoredBits),
// ascending (variants that do not parse are skipped). The Pareto figure needs at least two.
func ParetoWidths(rows []Row) []int {
	var ws []int
	for _, r := range rows {
		if v, err := metrics.ParseVariant(r.Variant); err == nil && !slices.Contains(ws, v.StoredBits()) {
			ws = append(ws, v.StoredBits())
		}
	}
	sort.Ints(ws)
	return ws
}

// paretoMaxBERs is the most BERs (the highest) drawn per model.
const paretoMaxBERs = 4

// Text and spacing of the Pareto figure.
const (
	paretoLabelSize = 8
	paretoJitter    = 0.1 // x offset (in W) between points sharing a W.
)

// paretoFamily is a family of variants: one color and glyph in every panel.
type paretoFamily struct {
	name  string // Legend.
	width string // W in terms of w, for the note.
}

// paretoFamilies in drawing order; paretoFamilyOf maps a variant to its index.
var paretoFamilies = []paretoFamily{
	{"8-bit, w-bit (unprotected)", "8-bit 8, w-bit w"},
	{"P-w (FORTUNE)", "P-w w+2"},
	{"PAR-w", "PAR-w w+1"},
	{"SEC-w", "SEC-w w+3"},
	{"SECDED-w", "SECDED-w w+4"},
	{"TMR-w", "TMR-w 3w"},
}

func paretoFamilyOf(v metrics.Variant) int {
	switch v.Code {
	case metrics.CodeParity:
		return 2
	case metrics.CodeSEC:
		return 3
	case metrics.CodeSECDED:
		return 4
	case metrics.CodeTMR:
		return 5
	}
	if v.Protected {
		return 1
	}
	return 0
}

// paretoStyle is the glyph of family f: filled for a best or tied point, hollow otherwise.
func paretoStyle(f int, filled bool) draw.GlyphStyle {
	g := draw.GlyphStyle{Color: plotutil.Color(f), Radius: vg.Points(3.2), Shape: filledGlyphs[f%len(filledGlyphs)]}
	if !filled {
		g.Shape, g.Radius = hollowGlyphs[f%len(hollowGlyphs)], vg.Points(3.5)
	}
	return g
}

// boldFont is the figures' font in bold at the given size. The weight is golang.org/x/image/font's
// WeightBold (3, CSS 700), written as a number so as not to import that module directly.
func boldFont(size vg.Length) font.Font {
	f := plot.DefaultFont
	f.Weight = 3
	return font.From(f, size)
}

// paretoItem is one drawn point with its label.
type paretoItem struct {
	xy     plotter.XY // x: W plus the point's offset.
	w      int
	label  string
	color  color.Color
	bold   bool
	radius vg.Length
}

// paretoLabels draws the labels of the points: for each W one column to the right of the
// rightmost point of that W, each label at its point's height, moved apart vertically (as
// little as possible) where two would overlap, with a thin leader line to its point when moved
// or away from it, on a white ground.
type paretoLabels struct {
	items []paretoItem
}

// Plot implements plot.Plotter.
func (pl paretoLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	byW := map[int][]int{}
	var ws []int
	for i, it := range pl.items {
		if _, ok := byW[it.w]; !ok {
			ws = append(ws, it.w)
		}
		byW[it.w] = append(byW[it.w], i)
	}
	lineH := vg.Points(paretoLabelSize * 1.15)
	for _, w := range ws {
		idx := byW[w]
		right := vg.Length(math.Inf(-1))
		for _, i := range idx {
			right = max(right, trX(pl.items[i].xy.X)+pl.items[i].radius)
		}
		x := right + vg.Points(3)
		sort.SliceStable(idx, func(a, b int) bool { return pl.items[idx[a]].xy.Y < pl.items[idx[b]].xy.Y })
		want := make([]vg.Length, len(idx))
		for k, i := range idx {
			want[k] = trY(pl.items[i].xy.Y)
		}
		ys := spreadLabels(want, lineH, c.Min.Y+lineH/2, c.Max.Y-lineH/2)
		for k, i := range idx {
			it := pl.items[i]
			sty := textStyle(paretoLabelSize)
			sty.Color, sty.XAlign, sty.YAlign = it.color, draw.XLeft, draw.YCenter
			if it.bold {
				sty.Font = boldFont(paretoLabelSize)
			}
			px, py := trX(it.xy.X), want[k]
			if math.Abs(float64(ys[k]-py)) > 1.5 || x-(px+it.radius) > vg.Points(4) {
				c.StrokeLine2(draw.LineStyle{Color: color.Gray{Y: 150}, Width: vg.Points(0.5)},
					px+it.radius, py, x-vg.Points(1), ys[k])
			}
			// On a white ground, so that the frontier or a grid line does not strike it through.
			at := vg.Point{X: x + vg.Points(1), Y: ys[k]}
			r := sty.Rectangle(it.label)
			r.Min, r.Max = r.Min.Add(at).Sub(vg.Point{X: 1, Y: 0.5}), r.Max.Add(at).Add(vg.Point{X: 1, Y: 0.5})
			c.FillPolygon(color.White, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
			c.FillText(sty, at, it.label)
		}
	}
}

// spreadLabels returns label heights, ascending like want (ascending), at least h apart, each
// cluster of labels that would overlap centered on the mean of what its members want, all
// within [lo, hi] where there is room.
func spreadLabels(want []vg.Length, h, lo, hi vg.Length) []vg.Length {
	type cluster struct {
		start, n int
		base     vg.Length // Height of the cluster's lowest label.
	}
	var cs []cluster
	place := func(c cluster) cluster {
		var sum vg.Length
		for k := 0; k < c.n; k++ {
			sum += want[c.start+k] - vg.Length(k)*h
		}
		c.base = sum / vg.Length(c.n)
		c.base = min(c.base, hi-vg.Length(c.n-1)*h)
		c.base = max(c.base, lo)
		return c
	}
	for i := range want {
		cs = append(cs, place(cluster{start: i, n: 1}))
		for len(cs) > 1 {
			a, b := cs[len(cs)-2], cs[len(cs)-1]
			if a.base+vg.Length(a.n)*h <= b.base {
				break
			}
			cs = append(cs[:len(cs)-2], place(cluster{start: a.start, n: a.n + b.n}))
		}
	}
	out := make([]vg.Length, len(want))
	for _, c := range cs {
		for k := 0; k < c.n; k++ {
			out[c.start+k] = c.base + vg.Length(k)*h
		}
	}
	return out
}

// FigurePareto plots, for each model and BER (the model's highest four when it has more), the
// accuracy under faults of every variant against W, the bits stored per weight (check bits
// included): the variant's fault-free accuracy (Row.Golden) minus its mean drop at that BER
// (%), with the drop's 95 % confidence interval as bars. One panel per model and BER, one point
// per variant, labelled with its name (the labels of one W stacked in a column beside its
// points, moved apart where they would overlap; marked † when the mean drop is negative), one
// color and glyph per family (unprotected, P-w, each classic code). Within a W the variant of
// the highest accuracy is "best" (filled glyph, bold label); another variant of that W is
// "tied" (filled glyph, plain label) when its 95 % interval overlaps the best's, and otherwise
// hollow (ParetoBestAtW). A gray step line is the Pareto frontier (ParetoFrontier): through
// the variants that no variant of W' ≤ W beats on accuracy (nor W' < W equals), each holding
// until a later one is higher. A row without a finite fault-free accuracy is left out, named
// in a note. The paper's values are not drawn (its Table II has no classic codes). It needs
// at least two distinct W.
func FigurePareto(rows []Row, opts FigureOptions) (Figure, error) {
	o := opts.withDefaults()
	ws := ParetoWidths(rows)
	if len(ws) < 2 {
		return Figure{}, fmt.Errorf("pareto figure: the variants have %d distinct stored widths W, want at least 2", len(ws))
	}
	type variantInfo struct {
		w, family int
	}
	info := map[string]variantInfo{}
	maxPerW := 1
	labelW := vg.Length(0)
	bold := textStyle(paretoLabelSize)
	bold.Font = boldFont(paretoLabelSize)
	models, groups := byModel(rows)
	for _, m := range models {
		perW := map[int]int{}
		for _, r := range groups[m] {
			v, err := metrics.ParseVariant(r.Variant)
			if err != nil {
				return Figure{}, fmt.Errorf("pareto figure, %s: %w", m, err)
			}
			info[r.Variant] = variantInfo{v.StoredBits(), paretoFamilyOf(v)}
			perW[v.StoredBits()]++
			maxPerW = max(maxPerW, perW[v.StoredBits()])
			labelW = max(labelW, bold.Width(shortType(r.Variant)))
		}
	}
	// Room for a column of labels between the points of one W and those of the next: the
	// panel is widened when a W unit would be too narrow.
	half := float64(maxPerW-1) / 2 * paretoJitter
	xMin, xMax := float64(ws[0])-half-0.35, float64(ws[len(ws)-1])+half
	unit := (labelW + vg.Points(12)) / vg.Length(1-2*half-0.1)
	xMax += float64((labelW + vg.Points(12)) / unit)
	o.PanelWidth = max(o.PanelWidth, unit*vg.Length(xMax-xMin)+2.4*vg.Centimeter)

	fig := figure{name: "pareto"}
	usedFamily := map[int]bool{}
	anyNeg, anyCI, anyHollow, anyTied := false, false, false, false
	var notes []string
	for _, m := range models {
		var rs []Row
		var noGolden []string
		for _, r := range groups[m] {
			if finite(r.Golden) {
				rs = append(rs, r)
			} else {
				noGolden = append(noGolden, r.Variant)
			}
		}
		if len(noGolden) > 0 {
			notes = append(notes, fmt.Sprintf("%s: not drawn, %s (no fault-free accuracy).", m, strings.Join(noGolden, ", ")))
		}
		bers := unionBERs(rs)
		if len(bers) > paretoMaxBERs {
			var left []string
			for _, b := range bers[:len(bers)-paretoMaxBERs] {
				left = append(left, o.berLabel(b))
			}
			notes = append(notes, fmt.Sprintf("%s: not drawn, BER %s (the %d highest BERs are; all are in Table II).",
				m, strings.Join(left, ", "), paretoMaxBERs))
			bers = bers[len(bers)-paretoMaxBERs:]
		}
		for _, b := range bers {
			var pts []ParetoPoint
			var prs []Row
			var neg []bool // A negative mean drop: the label is marked † (noise, see the note).
			for _, r := range rs {
				s, ok := r.At(b)
				if !ok || !finite(s.VulMean) {
					continue
				}
				// Accuracy under faults; the drop's interval [CILow, CIHigh] turned over.
				pts = append(pts, ParetoPoint{W: info[r.Variant].w, Mean: r.Golden - s.VulMean,
					Lo: r.Golden - s.CIHigh, High: r.Golden - s.CILow})
				prs = append(prs, r)
				neg = append(neg, s.VulMean < 0)
				anyNeg = anyNeg || s.VulMean < 0
			}
			if len(pts) == 0 {
				continue
			}
			p := newPanel(m+", BER "+o.berLabel(b), "Stored bits per weight W", "Accuracy under faults (%)")
			ranks := ParetoBestAtW(pts)
			frontier := ParetoFrontier(pts)
			// The frontier: a step line through its points, held to the largest W.
			var fxy plotter.XYs
			for i, pt := range pts {
				if frontier[i] {
					fxy = append(fxy, plotter.XY{X: float64(pt.W), Y: pt.Mean})
				}
			}
			sort.SliceStable(fxy, func(i, j int) bool { return fxy[i].X < fxy[j].X })
			if len(fxy) == 0 { // Cannot happen: the highest mean at the smallest W is on it.
				return Figure{}, fmt.Errorf("pareto figure, %s BER %g: empty frontier", m, b)
			}
			if last := fxy[len(fxy)-1]; last.X < float64(ws[len(ws)-1]) {
				fxy = append(fxy, plotter.XY{X: float64(ws[len(ws)-1]), Y: last.Y})
			}
			if len(fxy) > 1 {
				l, err := plotter.NewLine(fxy)
				if err != nil {
					return Figure{}, fmt.Errorf("pareto figure, %s BER %g: %w", m, b, err)
				}
				l.Color, l.Width, l.StepStyle = color.Gray{Y: 110}, vg.Points(1.5), plotter.PostStep
				p.Add(l)
			}
			// Points of one W side by side, in the rows' order.
			seen := map[int]int{}
			perW := map[int]int{}
			for _, pt := range pts {
				perW[pt.W]++
			}
			var labels paretoLabels
			for i, pt := range pts {
				k := seen[pt.W]
				seen[pt.W]++
				x := float64(pt.W) + (float64(k)-float64(perW[pt.W]-1)/2)*paretoJitter
				xy := plotter.XY{X: x, Y: pt.Mean}
				f := info[prs[i].Variant].family
				g := paretoStyle(f, ranks[i] != ParetoWorse)
				usedFamily[f] = true
				anyHollow = anyHollow || ranks[i] == ParetoWorse
				anyTied = anyTied || ranks[i] == ParetoTied
				if finite(pt.Lo) && finite(pt.High) {
					eb, err := plotter.NewYErrorBars(xyErr{plotter.XYs{xy}, plotter.YErrors{{Low: pt.Mean - pt.Lo, High: pt.High - pt.Mean}}})
					if err != nil {
						return Figure{}, fmt.Errorf("pareto figure, %s %s BER %g: %w", m, prs[i].Variant, b, err)
					}
					eb.Color, eb.CapWidth = g.Color, vg.Points(4)
					p.Add(eb)
					anyCI = true
				}
				sc, err := plotter.NewScatter(plotter.XYs{xy})
				if err != nil {
					return Figure{}, fmt.Errorf("pareto figure, %s %s BER %g: %w", m, prs[i].Variant, b, err)
				}
				sc.GlyphStyle = g
				p.Add(sc)
				label := shortType(prs[i].Variant)
				if neg[i] {
					label += negMark
				}
				labels.items = append(labels.items, paretoItem{xy: xy, w: pt.W, label: label,
					color: g.Color, bold: ranks[i] == ParetoBest, radius: g.Radius})
			}
			p.Add(labels)
			var ticks []plot.Tick
			for w := ws[0]; w <= ws[len(ws)-1]; w++ {
				ticks = append(ticks, plot.Tick{Value: float64(w), Label: strconv.Itoa(w)})
			}
			p.X.Tick.Marker = plot.ConstantTicks(ticks)
			p.X.Min, p.X.Max = xMin, xMax
			p.Y.Min, p.Y.Max = paddedRange(p.Y.Min, p.Y.Max, 0.06)
			p.Y.Tick.Marker = niceTicks{}
			fig.panels = append(fig.panels, p)
		}
	}
	if len(fig.panels) == 0 {
		return Figure{}, fmt.Errorf("pareto figure: %w: no finite accuracy under faults", ErrNothingToPlot)
	}
	var widths []string
	for f, fam := range paretoFamilies {
		if usedFamily[f] {
			fig.legend = append(fig.legend, legendEntry{fam.name, []plot.Thumbnailer{&plotter.Scatter{GlyphStyle: paretoStyle(f, true)}}})
			widths = append(widths, fam.width)
		}
	}
	bestLabel := "filled, bold label: highest accuracy at its W"
	if anyTied {
		bestLabel += "; filled, plain label: tied with it (95 % CIs overlap)"
	}
	fig.legend = append(fig.legend, legendEntry{bestLabel, keyThumb(draw.CircleGlyph{}, nil, false)})
	if anyHollow {
		fig.legend = append(fig.legend, legendEntry{"hollow: worse than the best at its W", keyThumb(draw.RingGlyph{}, nil, false)})
	}
	fig.legend = append(fig.legend, legendEntry{"Pareto frontier", []plot.Thumbnailer{
		&plotter.Line{LineStyle: draw.LineStyle{Color: color.Gray{Y: 110}, Width: vg.Points(1.5)}}}})
	ci := ""
	if anyCI {
		ci = " (bars: the drop's 95 % confidence interval)"
	}
	fig.notes = append([]string{
		"W = stored bits per weight, check bits included (" + strings.Join(widths, ", ") + "); variants of one W use the same memory.",
		"Accuracy under faults = the variant's fault-free accuracy (Table I) minus its mean accuracy drop at that BER" + ci + ".",
		"Pareto frontier: the variants that no variant of W' ≤ W beats on accuracy under faults (nor one of W' < W equals), " +
			"each holding until a larger W does better.",
	}, notes...)
	fig.notes = append(fig.notes, noteNegatives(anyNeg)...)
	return fig.render(o)
}
