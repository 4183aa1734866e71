package memory

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/inject"
	"github.com/fortune-go/fortune/fortune/internal/backendtest"
	"github.com/fortune-go/fortune/fortune/internal/reference"
	"github.com/fortune-go/fortune/fortune/storage"
)

func randomLayers(r *rand.Rand, shapes [][]int) ([]Layer, []*tensors.Tensor) {
	names := make([]string, len(shapes))
	ws := make([]*tensors.Tensor, len(shapes))
	for i, s := range shapes {
		names[i] = "layer" + string(rune('a'+i))
		n := 1
		for _, d := range s {
			n *= d
		}
		x := make([]float32, n)
		for j := range x {
			x[j] = float32(r.NormFloat64()) * 0.1
		}
		ws[i] = tensors.FromFlatDataAndDimensions(x, s...)
	}
	return Layout(names, shapes), ws
}

// TestFaultyReadMatchesReference: build a memory, inject one trial's faults, decode and
// dequantize in the graph; the plain-Go pipeline (quantize, encode, same faults, decode,
// dequantize) gives the same float32 weights bit for bit.
func TestFaultyReadMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	layers, ws := randomLayers(r, [][]int{{4, 3, 3, 3}, {10, 20}, {6, 4, 1, 7}})
	backendtest.ForEach(t, func(t *testing.T, b compute.Backend) {
		for _, s := range []storage.Scheme{storage.Baseline8{}, storage.TripleMSB{Bits: 3}, storage.TripleMSB{Bits: 5}, storage.Unprotected{Bits: 4}} {
			m, err := Build(b, s, layers, ws, Options{})
			if err != nil {
				t.Fatal(err)
			}
			const ber, seed = 0.02, 99
			f, _ := inject.Count(ber, m.StoredBits())
			plan := m.Plan(inject.Distinct, inject.SignXOR, inject.CapacityFor(inject.Distinct, f, m.StoredBits()))
			exec, err := NewExec(b, m.TrialGraph(plan))
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Call(m.Args(tensors.FromScalar(uint64(seed)), tensors.FromScalar(ber))...)
			if err != nil {
				t.Fatal(err)
			}
			// Reference.
			var words []uint8
			type qp struct{ s, z []float32 }
			var qps []qp
			for i, l := range layers {
				x := tensors.MustCopyFlatData[float32](ws[i])
				c := l.Shape[0]
				per := l.Words / c
				var p qp
				for ch := range c {
					chunk := x[ch*per : (ch+1)*per]
					var q []uint8
					var sc, z float32
					if _, ok := s.(storage.Baseline8); ok {
						q, sc = reference.QuantizeSymmetric8(chunk)
					} else {
						q, sc, z = reference.QuantizeAffine(chunk, s.Quant().Bits, false)
					}
					for _, v := range q {
						if p, ok := s.(storage.TripleMSB); ok {
							v = reference.EncodeTMSB(v, p.Bits)
						}
						words = append(words, v)
					}
					p.s, p.z = append(p.s, sc), append(p.z, z)
				}
				qps = append(qps, p)
			}
			sites, _ := reference.DrawDistinct(seed, uint64(m.StoredBits()), f, plan.Capacity)
			reference.Apply(words, sites, s.StoredBits(), false)
			for i, l := range layers {
				got := tensors.MustCopyFlatData[float32](out[i])
				per := l.Words / l.Shape[0]
				for j := range got {
					wd := words[l.Offset+j]
					ch := j / per
					var want float32
					switch s := s.(type) {
					case storage.Baseline8:
						want = reference.DequantizeSymmetric8(wd, qps[i].s[ch])
					case storage.TripleMSB:
						want = reference.DequantizeAffine(reference.DecodeTMSB(wd, s.Bits), qps[i].s[ch], qps[i].z[ch])
					case storage.Unprotected:
						want = reference.DequantizeAffine(reference.DecodeUnprotected(wd, s.Bits), qps[i].s[ch], qps[i].z[ch])
					}
					if got[j] != want {
						t.Fatalf("%s layer %s [%d]: %g, want %g", s.Name(), l.Name, j, got[j], want)
					}
				}
			}
		}
	})
}

// alexNetShapes are the injectable weights of AlexNet (SPEC §1.5): 58,289,504 words.
var alexNetShapes = [][]int{{96, 1, 11, 11}, {256, 96, 5, 5}, {384, 256, 3, 3}, {384, 384, 3, 3},
	{256, 384, 3, 3}, {4096, 9216}, {4096, 4096}, {10, 4096}}

// BenchmarkTrialAlexNet measures one fault-injection trial over AlexNet's 58,289,504 weights:
// inject (BER 1e-4, distinct placement), decode (P-4 majority vote) and dequantize to float32,
// on the pure-Go backend. The authors' decode alone takes ≈223 s per trial (3.8 µs per weight).
func BenchmarkTrialAlexNet(b *testing.B) {
	be := backendtest.Go(b)
	benchTrial(b, be, storage.TripleMSB{Bits: 4})
}

func benchTrial(b *testing.B, be compute.Backend, s storage.Scheme) {
	r := rand.New(rand.NewPCG(1, 1))
	layers, ws := randomLayers(r, alexNetShapes)
	m, err := Build(be, s, layers, ws, Options{})
	if err != nil {
		b.Fatal(err)
	}
	const ber = 1e-4
	f, _ := inject.Count(ber, m.StoredBits())
	plan := m.Plan(inject.Distinct, inject.SignXOR, inject.CapacityFor(inject.Distinct, f, m.StoredBits()))
	exec, err := NewExec(be, m.TrialGraph(plan))
	if err != nil {
		b.Fatal(err)
	}
	exec.MustCall(m.Args(tensors.FromScalar(uint64(0)), tensors.FromScalar(ber))...) // Compile.
	b.ResetTimer()
	for i := range b.N {
		out := exec.MustCall(m.Args(tensors.FromScalar(uint64(i+1)), tensors.FromScalar(ber))...)
		for _, o := range out {
			o.FinalizeAll()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(m.N()), "ns/weight")
}
