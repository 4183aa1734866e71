package quant_test

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/fortune/quant"
)

// Five weights of one output channel, quantized to unsigned 4-bit affine codes and back. The
// channel's range [−0.5, 1] is split into 2^4 − 1 = 15 steps, so s = 1.5/15 = 0.1 and the zero
// point z = round(0.5/0.1) = 5 is the code of 0.0. Each weight comes back as (q − z)·s, within
// s/2 of where it started (−0.12 → −0.1, 0.07 → 0.1, 0.33 → 0.3); the channel's extremes come
// back exactly.
func ExampleQuantize() {
	cfg := quant.Config{Bits: 4, Scheme: quant.Affine}
	weights := [][]float32{{-0.5, -0.12, 0.07, 0.33, 1.0}} // Shape (1, 5): one channel.
	out := MustExecOnceN(backend.Go(), func(w *Node) []*Node {
		codes, scale, zero := quant.Quantize(w, cfg)
		back := quant.Dequantize(codes, scale, zero, cfg, w.Shape().Dimensions...)
		return []*Node{codes, scale, zero, back}
	}, weights)
	fmt.Println("codes:", tensors.MustCopyFlatData[uint8](out[0]))
	fmt.Println("scale:", tensors.MustCopyFlatData[float32](out[1]))
	fmt.Println("zero: ", tensors.MustCopyFlatData[float32](out[2]))
	fmt.Println("back: ", tensors.MustCopyFlatData[float32](out[3]))
	// Output:
	// codes: [0 4 6 8 15]
	// scale: [0.1]
	// zero:  [5]
	// back:  [-0.5 -0.1 0.1 0.3 1]
}
