package selfcheck

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/inject"
	"github.com/fortune-go/fortune/fortune/internal/reference"
	"github.com/fortune-go/fortune/fortune/memory"
	"github.com/fortune-go/fortune/fortune/quant"
	"github.com/fortune-go/fortune/fortune/storage"
)

// FaultyRead checks, for each scheme, what inference sees after one fault trial: a memory is
// built from random weights (memory.Build: quantize, encode), one trial's faults are injected
// (distinct placement, BER 0.02), and the words are decoded and dequantized in the graph
// (Memory.TrialGraph); the plain-Go pipeline (quantize, encode, the same faults, decode,
// dequantize, an erased word read as 0) must give the same float32 weights bit for bit.
func FaultyRead(schemes ...storage.Scheme) Check {
	return Check{Name: "faulty-read", Run: func(b compute.Backend) (string, error) {
		r := rand.New(rand.NewPCG(7, 8))
		shapes := [][]int{{4, 3, 3, 3}, {10, 20}, {6, 4, 1, 7}}
		names := make([]string, len(shapes))
		ws := make([][]float32, len(shapes))
		for i, s := range shapes {
			names[i] = fmt.Sprintf("layer%d", i)
			ws[i] = make([]float32, size(s))
			for j := range ws[i] {
				ws[i][j] = float32(r.NormFloat64()) * 0.1
			}
		}
		layers := memory.Layout(names, shapes)
		weights := 0
		for _, s := range schemes {
			n, err := compareRead(b, s, layers, ws)
			if err != nil {
				return "", fmt.Errorf("%s: %w", s.Name(), err)
			}
			weights += n
		}
		return fmt.Sprintf("%d schemes × %d weights in 3 layers, one trial at BER 0.02: decoded, dequantized float32 weights", len(schemes), weights/len(schemes)), nil
	}}
}

// compareRead runs one trial of a memory of the given scheme and compares the read weights with
// the reference; it returns how many weights it compared.
func compareRead(b compute.Backend, s storage.Scheme, layers []memory.Layer, ws [][]float32) (int, error) {
	ts := make([]*tensors.Tensor, len(ws))
	for i, w := range ws {
		ts[i] = tensors.FromFlatDataAndDimensions(w, layers[i].Shape...)
	}
	m, err := memory.Build(b, s, layers, ts, memory.Options{})
	if err != nil {
		return 0, err
	}
	const ber, seed = 0.02, 99
	f, err := inject.Count(ber, m.StoredBits())
	if err != nil {
		return 0, err
	}
	plan := m.Plan(inject.Distinct, inject.SignXOR, inject.CapacityFor(inject.Distinct, f, m.StoredBits()))
	exec, err := NewExec(b, m.TrialGraph(plan))
	if err != nil {
		return 0, err
	}
	defer exec.Finalize()
	out, err := exec.Call(m.TrialArgs(seed, ber)...)
	if err != nil {
		return 0, err
	}
	defer func() {
		for _, o := range out {
			o.FinalizeAll()
		}
	}()

	// Reference: quantize and encode every channel, then the same faults.
	symmetric := s.Quant().Scheme == quant.Symmetric8
	var words []uint8
	type params struct{ s, z []float32 }
	qps := make([]params, len(layers))
	for i, l := range layers {
		per := l.Words / l.Shape[0]
		for ch := range l.Shape[0] {
			chunk := ws[i][ch*per : (ch+1)*per]
			q, sc, z := refQuantize(chunk, s.Quant())
			for _, v := range q {
				e, err := RefEncode(s, v)
				if err != nil {
					return 0, err
				}
				words = append(words, e)
			}
			qps[i].s, qps[i].z = append(qps[i].s, sc), append(qps[i].z, z)
		}
	}
	sites, _ := reference.DrawDistinct(seed, uint64(m.StoredBits()), f, plan.Capacity)
	reference.Apply(words, sites, s.StoredBits(), false)
	n, erased := 0, 0
	for i, l := range layers {
		got := tensors.MustCopyFlatData[float32](out[i])
		per := l.Words / l.Shape[0]
		for j := range got {
			ch := j / per
			q, err := RefDecode(s, words[l.Offset+j])
			if err != nil {
				return 0, err
			}
			var want float32
			switch {
			case symmetric:
				want = reference.DequantizeSymmetric8(q, qps[i].s[ch])
			case storage.Erases(s) && q == reference.Erased:
				want, erased = 0, erased+1 // docs/method.md §12.2: a detected error reads as 0.
			default:
				want = reference.DequantizeAffine(q, qps[i].s[ch], qps[i].z[ch])
			}
			if math.Float32bits(got[j]) != math.Float32bits(want) {
				return 0, fmt.Errorf("layer %s [%d] (word %#08b): %g, reference %g", l.Name, j, words[l.Offset+j], got[j], want)
			}
			n++
		}
	}
	if storage.Erases(s) && erased == 0 {
		return 0, fmt.Errorf("no word was erased at BER %g: the erasure path went untested", ber)
	}
	return n, nil
}

// size returns the number of elements of a shape.
func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
