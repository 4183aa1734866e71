package splitmix

import (
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/internal/backendtest"
)

// TestAtKnownValues pins SplitMix64 to its published outputs: the generator started from state 0
// yields 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F.
func TestAtKnownValues(t *testing.T) {
	for i, want := range []uint64{0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F} {
		if got := At(0, uint64(i)); got != want {
			t.Errorf("At(0, %d) = %#x, want %#x", i, got, want)
		}
	}
	if Unit(0) != 0 || Unit(^uint64(0)) >= 1 {
		t.Errorf("Unit out of [0, 1): %v, %v", Unit(0), Unit(^uint64(0)))
	}
}

// TestGraphMatchesGo checks AtNode, StreamNode and UnitNode against the plain-Go functions bit
// for bit, on every backend at hand, for seeds and counters that exercise the high bits.
func TestGraphMatchesGo(t *testing.T) {
	seeds := []uint64{0, 1, 42, 0xFFFFFFFFFFFFFFFF, 0x8000000000000000, 0xDEADBEEFCAFEF00D}
	const n = 1000
	backendtest.ForEach(t, func(t *testing.T, b compute.Backend) {
		e, err := NewExec(b, func(seed *Node) []*Node {
			g := seed.Graph()
			i := Iota(g, shapesOf(n), 0)
			i = Add(i, Const(g, uint64(0xFFFFFFFFFFFFFF00))) // Wraps around 2^64.
			s := StreamNode(seed, 7)
			return []*Node{AtNode(seed, i), s, UnitNode(AtNode(s, i))}
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, seed := range seeds {
			out, err := e.Exec(seed)
			if err != nil {
				t.Fatal(err)
			}
			vals := tensors.MustCopyFlatData[uint64](out[0])
			stream := tensors.ToScalar[uint64](out[1])
			units := tensors.MustCopyFlatData[float64](out[2])
			if want := Stream(seed, 7); stream != want {
				t.Fatalf("seed %#x: StreamNode = %#x, Stream = %#x", seed, stream, want)
			}
			for k := range n {
				i := uint64(k) + 0xFFFFFFFFFFFFFF00
				if want := At(seed, i); vals[k] != want {
					t.Fatalf("seed %#x, i %#x: AtNode = %#x, At = %#x", seed, i, vals[k], want)
				}
				if want := Unit(At(stream, i)); units[k] != want {
					t.Fatalf("seed %#x, i %#x: UnitNode = %v, Unit = %v", seed, i, units[k], want)
				}
			}
		}
	})
}

func shapesOf(n int) shapes.Shape { return shapes.Make(dtypes.Uint64, n) }
