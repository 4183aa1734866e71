package nbkit

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/fortune-go/fortune/fortune/report"
)

// LogAxis makes ax a log axis labelled in powers of ten (3·10⁻⁴): at exactly the given values
// (e.g. the BERs a campaign ran), or at the powers of ten when none are given.
func LogAxis(ax *plot.Axis, values ...float64) {
	ax.Scale = plot.LogScale{}
	ax.Tick.Marker = report.DecadeTicks{}
	if len(values) > 0 {
		ax.Tick.Marker = report.PowerTicks(values)
	}
	ax.Tick.Label.Handler = report.TextHandler
}

// WordRow is one storage scheme drawn by StorageWords: its name, data width w, stored bits W,
// the word Encode makes of the code with only its MSB set (the MSB and its copies), and an
// example code with its stored word.
type WordRow struct {
	Name             string
	Bits, StoredBits int
	MSBWord          uint8
	Code, Word       uint8
}

// Bit roles of StorageWords, and their colours.
var wordRoles = []struct {
	name, label string
	fill        color.Color
}{
	{"data", "data bit", color.RGBA{158, 202, 225, 255}},
	{"MSB", "data MSB", color.RGBA{33, 113, 181, 255}},
	{"copy", "MSB copy", color.RGBA{253, 141, 60, 255}},
	{"unused", "not counted", color.RGBA{220, 220, 220, 255}},
}

// role is the index in wordRoles of bit i of a row's byte: not counted (≥ W), the data MSB
// (w−1), an MSB copy (set in MSBWord), a data bit (below w−1), else not counted.
func (r WordRow) role(i int) int {
	switch {
	case i >= r.StoredBits:
		return 3
	case i == r.Bits-1:
		return 1
	case r.MSBWord&(1<<i) != 0:
		return 2
	case i < r.Bits-1:
		return 0
	}
	return 3
}

// Bits formats the low n bits of x, most significant first.
func Bits(x uint8, n int) string { return fmt.Sprintf("%0*b", n, x&uint8(1<<n-1)) }

// StorageWords draws the byte of each row bit by bit (bit 7 left), coloured by role, with the
// example word's bits written in, as a PNG.
func StorageWords(rows []WordRow) []byte {
	const box, left, top = 34.0, 70.0, 30.0
	rowH := box + 26
	W := vg.Length(left + 8*box + 180)
	H := vg.Length(top + rowH*float64(len(rows)) + 40)
	canvas := vgimg.NewWith(vgimg.UseWH(W, H), vgimg.UseDPI(110))
	dc := draw.New(canvas)
	rect := func(x, y, w, h float64, c color.Color) { // Top-left corner (x, y), y downwards.
		x0, y0, x1, y1 := vg.Length(x), H-vg.Length(y+h), vg.Length(x+w), H-vg.Length(y)
		dc.FillPolygon(c, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
	}
	txt := func(x, y float64, s string, size vg.Length, clr color.Color, xa draw.XAlignment) {
		dc.FillText(draw.TextStyle{Color: clr, Font: font.From(plot.DefaultFont, size), XAlign: xa, YAlign: draw.YCenter,
			Handler: plot.DefaultTextHandler}, vg.Point{X: vg.Length(x), Y: H - vg.Length(y)}, s)
	}
	rect(0, 0, float64(W), float64(H), color.White)
	for i := 7; i >= 0; i-- {
		txt(left+float64(7-i)*box+box/2, top-12, fmt.Sprintf("bit %d", i), 8, color.Black, draw.XCenter)
	}
	for r, row := range rows {
		y := top + float64(r)*rowH
		txt(8, y+box/2, row.Name, 12, color.Black, draw.XLeft)
		for i := 7; i >= 0; i-- {
			role := row.role(i)
			x := left + float64(7-i)*box
			rect(x+1, y+1, box-2, box-2, wordRoles[role].fill)
			clr := color.Color(color.Black)
			if role == 1 {
				clr = color.White
			}
			if role != 3 {
				txt(x+box/2, y+box/2, fmt.Sprint((row.Word>>i)&1), 12, clr, draw.XCenter)
			}
		}
		txt(left+8*box+10, y+box/2-7, fmt.Sprintf("w = %d, W = %d bits", row.Bits, row.StoredBits), 9, color.Black, draw.XLeft)
		txt(left+8*box+10, y+box/2+7, fmt.Sprintf("code %s → word %s", Bits(row.Code, row.Bits), Bits(row.Word, row.StoredBits)),
			9, color.Black, draw.XLeft)
	}
	ly := top + rowH*float64(len(rows)) + 8
	for i, role := range wordRoles {
		x := left + float64(i)*100
		rect(x, ly, 14, 14, role.fill)
		txt(x+20, ly+7, role.label, 9, color.Black, draw.XLeft)
	}
	var buf bytes.Buffer
	Must(vgimg.PngCanvas{Canvas: canvas}.WriteTo(&buf))
	return buf.Bytes()
}
