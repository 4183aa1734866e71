package graphargs_test

import (
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/fortune/graphargs"
)

// TestMistakeInGraph: a mistake inside a graph function comes back as Exec.Call's error, naming
// the argument (a panic that is not an error would escape graph.Exec and leave it unusable).
func TestMistakeInGraph(t *testing.T) {
	layout := new(graphargs.Layout).One("x").One("y")
	exec, err := NewExec(backend.Go(), func(nodes []*Node) *Node {
		in := graphargs.Read(layout, nodes)
		return Add(in.One("x"), in.One("z"))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	args := graphargs.Build[*tensors.Tensor](layout).Set("x", tensors.FromScalar(float32(1))).Set("y", tensors.FromScalar(float32(2)))
	if _, err := exec.Call(args.Any()...); err == nil || !strings.Contains(err.Error(), `no argument "z" in layout (x, y)`) {
		t.Fatalf("Call: error %v, want one naming the argument z", err)
	}
}
