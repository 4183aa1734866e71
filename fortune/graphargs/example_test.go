package graphargs_test

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/fortune/graphargs"
)

// A graph of a group of weights, an input and a bias: the layout is declared once, builds the
// call's arguments and reads the graph's inputs back by name.
func Example() {
	weights := []*tensors.Tensor{tensors.FromValue([]float32{1, 2}), tensors.FromValue([]float32{10, 20})}
	layout := new(graphargs.Layout).Group("weights", len(weights)).One("x").One("bias")
	fmt.Println(layout, "→", layout.Len(), "inputs")

	exec := MustNewExec(backend.Go(), func(nodes []*Node) *Node {
		in := graphargs.Read(layout, nodes)
		sum := in.One("bias")
		for _, w := range in.Group("weights") {
			sum = Add(sum, ReduceAllSum(Mul(w, in.One("x"))))
		}
		return sum
	})
	defer exec.Finalize()

	args := graphargs.Build[*tensors.Tensor](layout).SetGroup("weights", weights)
	args.Set("bias", tensors.FromScalar(float32(0.5)))
	for _, x := range []float32{1, 2} { // Only x changes from one call to the next.
		args.Set("x", tensors.FromValue([]float32{x, x}))
		out := exec.MustCall(args.Any()...)
		fmt.Println(out[0].Value())
	}
	// Output:
	// weights[2], x, bias → 4 inputs
	// 33.5
	// 66.5
}
