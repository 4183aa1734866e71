package data

import (
	"fmt"
	"math"
)

// pilPrecisionBits is Pillow's PRECISION_BITS (32 - 8 - 2): the number of fractional bits of
// the fixed-point filter coefficients used when resampling 8-bit images.
const pilPrecisionBits = 32 - 8 - 2

// Resizer resamples single-channel uint8 images of one fixed size to another fixed size exactly
// as Pillow 9.4's Image.resize(size, Image.BILINEAR) does for mode "L" images (libImaging
// ImagingResample): a separable triangle filter whose support is scaled by the reduction factor
// (support 1, i.e. bilinear interpolation with half-pixel centres, when enlarging), coefficients
// normalised per output pixel and converted to fixed point with 22 fractional bits, a horizontal
// pass then a vertical pass, each rounded and clipped to uint8. The output is byte-identical to
// Pillow's.
//
// A Resizer is immutable after construction and safe for concurrent use.
type Resizer struct {
	srcW, srcH, dstW, dstH int
	horiz, vert            pilCoeffs
	// rowFirst and rowCount are the source rows the vertical pass reads (Pillow's ybox_first
	// and ybox_last - ybox_first); the horizontal pass computes only those rows.
	rowFirst, rowCount int
}

// pilCoeffs holds Pillow's per-output-pixel filter window: taps [start[i], start[i]+count[i])
// with fixed-point weights k[i*ksize : i*ksize+count[i]].
type pilCoeffs struct {
	ksize        int
	start, count []int
	k            []int32
}

// NewResizer returns a Resizer from srcW×srcH to dstW×dstH images. All sizes must be positive.
func NewResizer(srcW, srcH, dstW, dstH int) (*Resizer, error) {
	const maxSide = 1 << 16
	for _, v := range []int{srcW, srcH, dstW, dstH} {
		if v <= 0 || v > maxSide {
			return nil, fmt.Errorf("data: resize %dx%d -> %dx%d: sizes must be in 1..%d", srcW, srcH, dstW, dstH, maxSide)
		}
	}
	r := &Resizer{srcW: srcW, srcH: srcH, dstW: dstW, dstH: dstH}
	r.horiz = pilBilinearCoeffs(srcW, dstW)
	r.vert = pilBilinearCoeffs(srcH, dstH)
	last := dstH - 1
	r.rowFirst = r.vert.start[0]
	r.rowCount = r.vert.start[last] + r.vert.count[last] - r.rowFirst
	return r, nil
}

// pilBilinearCoeffs reproduces Pillow's precompute_coeffs followed by normalize_coeffs_8bpc for
// the bilinear filter (support 1.0) and the full-image box (in0 = 0, in1 = inSize).
//
// Every floating-point expression keeps C's evaluation order, and products are converted
// explicitly so that the Go compiler cannot fuse them into FMA instructions (Pillow's x86-64
// builds do not use FMA), which could change a rounding.
func pilBilinearCoeffs(inSize, outSize int) pilCoeffs {
	const filterSupport = 1.0
	in0, in1 := float32(0), float32(inSize)
	scale := float64(in1-in0) / float64(outSize)
	filterscale := scale
	if filterscale < 1.0 {
		filterscale = 1.0
	}
	support := float64(filterSupport * filterscale)
	ksize := int(math.Ceil(support))*2 + 1

	c := pilCoeffs{
		ksize: ksize,
		start: make([]int, outSize),
		count: make([]int, outSize),
		k:     make([]int32, outSize*ksize),
	}
	w := make([]float64, ksize)
	for xx := 0; xx < outSize; xx++ {
		center := float64(in0) + float64((float64(xx)+0.5)*scale)
		ww := 0.0
		ss := 1.0 / filterscale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		if xmax > ksize { // cannot happen for valid sizes; keeps the slices in bounds
			xmax = ksize
		}
		for x := 0; x < xmax; x++ {
			v := bilinearFilter(float64((float64(x+xmin) - center + 0.5) * ss))
			w[x] = v
			ww += v
		}
		for x := 0; x < xmax; x++ {
			if ww != 0.0 {
				w[x] /= ww
			}
		}
		for x := 0; x < xmax; x++ {
			scaled := float64(w[x] * (1 << pilPrecisionBits))
			if w[x] < 0 {
				c.k[xx*ksize+x] = int32(-0.5 + scaled)
			} else {
				c.k[xx*ksize+x] = int32(0.5 + scaled)
			}
		}
		c.start[xx] = xmin
		c.count[xx] = xmax
	}
	return c
}

// bilinearFilter is Pillow's bilinear_filter: the triangle 1-|x| on (-1, 1).
func bilinearFilter(x float64) float64 {
	if x < 0.0 {
		x = -x
	}
	if x < 1.0 {
		return 1.0 - x
	}
	return 0.0
}

// clip8 is Pillow's clip8: the fixed-point sum shifted down to an integer and clamped to 0..255.
func clip8(v int32) uint8 {
	v >>= pilPrecisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// SrcSize returns the source image width and height the Resizer was built for.
func (r *Resizer) SrcSize() (w, h int) { return r.srcW, r.srcH }

// DstSize returns the output image width and height.
func (r *Resizer) DstSize() (w, h int) { return r.dstW, r.dstH }

// Resize writes into dst (length dstW*dstH, row-major) the resampled src (length srcW*srcH,
// row-major). It returns an error if either slice has the wrong length.
func (r *Resizer) Resize(dst, src []uint8) error {
	if len(src) != r.srcW*r.srcH || len(dst) != r.dstW*r.dstH {
		return fmt.Errorf("data: resize %dx%d -> %dx%d: got src of %d bytes and dst of %d bytes, want %d and %d",
			r.srcW, r.srcH, r.dstW, r.dstH, len(src), len(dst), r.srcW*r.srcH, r.dstW*r.dstH)
	}
	r.resize(dst, src, make([]uint8, r.dstW*r.rowCount), make([]int32, r.dstW))
	return nil
}

// resize is Resize with caller-provided scratch space: tmp of dstW*rowCount bytes and acc of
// dstW int32s. Slice lengths are not checked.
func (r *Resizer) resize(dst, src, tmp []uint8, acc []int32) {
	const half = int32(1) << (pilPrecisionBits - 1)
	needH := r.dstW != r.srcW
	needV := r.dstH != r.srcH

	// Horizontal pass over the source rows the vertical pass needs.
	in, inW := src, r.srcW
	rowOffset := 0
	if needH {
		hc := &r.horiz
		for y := 0; y < r.rowCount; y++ {
			srow := src[(y+r.rowFirst)*r.srcW : (y+r.rowFirst+1)*r.srcW]
			trow := tmp[y*r.dstW : (y+1)*r.dstW]
			for xx := range trow {
				k := hc.k[xx*hc.ksize : xx*hc.ksize+hc.count[xx]]
				s := srow[hc.start[xx] : hc.start[xx]+len(k)]
				ss := half
				for x, kv := range k {
					ss += int32(s[x]) * kv
				}
				trow[xx] = clip8(ss)
			}
		}
		in, inW = tmp[:r.rowCount*r.dstW], r.dstW
		rowOffset = r.rowFirst
	}
	if !needV {
		copy(dst, in) // same height: the horizontal pass computed every row (or none was needed)
		return
	}

	// Vertical pass: accumulate whole rows (integer sums, so the order is irrelevant).
	vc := &r.vert
	acc = acc[:inW]
	for yy := 0; yy < r.dstH; yy++ {
		for i := range acc {
			acc[i] = half
		}
		k := vc.k[yy*vc.ksize : yy*vc.ksize+vc.count[yy]]
		for y, kv := range k {
			row := y + vc.start[yy] - rowOffset
			srow := in[row*inW : (row+1)*inW]
			for x, p := range srow {
				acc[x] += int32(p) * kv
			}
		}
		drow := dst[yy*inW : (yy+1)*inW]
		for x, v := range acc {
			drow[x] = clip8(v)
		}
	}
}
