package nn

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/support/exceptions"
)

// An unrolled convolution is the convolution written out as the linear map it is, from the
// whole (H, W, C) input of one image to its whole (Ho, Wo, O) output: one MatMul of the
// flattened images (B, H·W·C) by an (H·W·C, Ho·Wo·O) matrix whose block for output position
// (y, x) and input position (i, j) is the kernel tap (i − y·s + top, j − x·s + left), or zeros
// where that tap falls outside the kernel (padding needs no zeros in the input: they would only
// meet zero rows). It takes H·W·Ho·Wo·C·O multiply-adds against kh·kw·Ho·Wo·C·O for the direct
// sum, so it wins on inputs smaller than half the kernel: VGG-11's last two layers see 2×2
// images, where every 3×3 window (padding 1) covers the whole image and the unrolled form takes
// 16 multiply-adds per channel pair against 36 for Winograd F(4×4, 3×3) on one (mostly padding)
// tile. It also needs no patches, tiles or transposes: the NHWC activation is already the
// flattened image, and the output comes back in NHWC.

// useUnrolled reports whether a convolution runs unrolled: its input size is known
// (cfg.InputSize) and smaller than half its kernel's area, on the pure-Go backend.
func useUnrolled(g *Graph, kernel [2]int, cfg ConvConfig) bool {
	in := cfg.InputSize
	return in[0] > 0 && in[1] > 0 && 2*in[0]*in[1] <= kernel[0]*kernel[1] && !cfg.Native && IsGoBackend(g)
}

// unrolledOutSize is the (Ho, Wo) of an unrolled convolution, before any pool.
func unrolledOutSize(kernel [2]int, cfg ConvConfig) (ho, wo int) {
	s := cfg.strides()
	ho = convOutSize(cfg.InputSize[0], kernel[0], s[0], cfg.Padding[0])
	wo = convOutSize(cfg.InputSize[1], kernel[1], s[1], cfg.Padding[1])
	if ho <= 0 || wo <= 0 {
		exceptions.Panicf("nn.Conv2D: empty output for a %v input, kernel %v and padding %v", cfg.InputSize, kernel, cfg.Padding)
	}
	return ho, wo
}

// unrolledKernel builds the (H·W·C, Ho·Wo·O) matrix of an (O, C, kh, kw) weight for inputs of
// cfg.InputSize: row (i, j, c), column (y, x, o), in the (in, out) layout of denseIO. The blocks
// are picked from the taps by one DotGeneral with a 0/1 selection matrix (exact: each block is
// one tap times 1 plus zeros), whose gradient is one MatMul: building it from per-tap slices
// cost a weight-sized zero-padded copy per block in the backward pass.
func unrolledKernel(weight *Node, cfg ConvConfig) *Node {
	d := weight.Shape().Dimensions
	o, c, kh, kw := d[0], d[1], d[2], d[3]
	h, w := cfg.InputSize[0], cfg.InputSize[1]
	ho, wo := unrolledOutSize([2]int{kh, kw}, cfg)
	s := cfg.strides()
	sel := make([]float32, h*w*ho*wo*kh*kw) // Row (i, j, y, x), column (a, b).
	row := 0
	for i := range h {
		for j := range w {
			for y := range ho {
				for x := range wo {
					a, b := i-y*s[0]+cfg.Padding[0][0], j-x*s[1]+cfg.Padding[1][0]
					if a >= 0 && a < kh && b >= 0 && b < kw {
						sel[row*kh*kw+a*kw+b] = 1
					}
					row++
				}
			}
		}
	}
	taps := Reshape(TransposeAllAxes(weight, 2, 3, 1, 0), kh*kw, c*o) // (kh·kw, C·O)
	selM := Reshape(Const(weight.Graph(), sel), h*w*ho*wo, kh*kw)
	blocks := Reshape(dotGeneral(selM, []int{1}, nil, taps, []int{0}, nil), h, w, ho, wo, c, o)
	return Reshape(TransposeAllAxes(blocks, 0, 1, 4, 2, 3, 5), h*w*c, ho*wo*o)
}

// unrolledConv is the convolution of the NHWC x by its unrolled matrix, then the max pool,
// bias and ReLU that cfg asks for (the pool first: it commutes with both, exactly).
func unrolledConv(x, matrix, bias *Node, kernel [2]int, cfg ConvConfig) *Node {
	xd := x.Shape().Dimensions
	b, h, w, c := xd[0], xd[1], xd[2], xd[3]
	if h != cfg.InputSize[0] || w != cfg.InputSize[1] {
		exceptions.Panicf("nn.Conv2D: x %s does not have the input size %v its unrolled kernel was prepared for", x.Shape(), cfg.InputSize)
	}
	ho, wo := unrolledOutSize(kernel, cfg)
	if md := matrix.Shape().Dimensions; matrix.Rank() != 2 || md[0] != h*w*c || md[1]%(ho*wo) != 0 {
		exceptions.Panicf("nn.Conv2DPrepared: want an (%d, %d·O) unrolled kernel for x %s, got %s", h*w*c, ho*wo, x.Shape(), matrix.Shape())
	}
	o := matrix.Shape().Dimensions[1] / (ho * wo)
	y := Reshape(denseIO(Reshape(x, b, h*w*c), matrix, nil, false), b, ho, wo, o)
	return finishConv(y, bias, cfg)
}
