package memory

import (
	"math/rand/v2"
	"slices"
	"strings"
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

// alexNetShapes are the injectable weights of AlexNet (docs/method.md §1.7): 58,289,504 words.
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
	exec.MustCall(m.TrialArgs(0, ber)...) // Compile.
	b.ResetTimer()
	for i := range b.N {
		out := exec.MustCall(m.TrialArgs(uint64(i+1), ber)...)
		for _, o := range out {
			o.FinalizeAll()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(m.N()), "ns/weight")
}

// TestFixedLayers: a fixed layer is quantized like the others but stays out of the word memory:
// not counted in N, never faulted, read back from its plain code without encoding or decoding;
// the memory layers around it read exactly as in a memory without it. Its first channel makes
// double rounding give the code 2^w under the legacy [0, 255] clamp (s = 0.25, −min/s = 1.5,
// max/s = 13.5 → 14 + 2 = 16 for w = 4): the plain code keeps it (3.5), where P-4's encoding
// would have turned it into 0.
func TestFixedLayers(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	layers, ws := randomLayers(r, [][]int{{4, 3, 3, 3}, {10, 20}})
	fixed := tensors.FromFlatDataAndDimensions([]float32{-0.375, 3.375, 1, 0, 0.3, -0.2, 0.1, 0.05}, 2, 4)
	all := []Layer{layers[0]}
	all = append(all, FixedLayers([]string{"fixed"}, [][]int{{2, 4}})...)
	all = append(all, layers[1])
	backendtest.ForEach(t, func(t *testing.T, b compute.Backend) {
		for _, s := range []storage.Scheme{storage.Baseline8{}, storage.TripleMSB{Bits: 4}} {
			opts := Options{LegacyClamp: true}
			with, err := Build(b, s, all, []*tensors.Tensor{ws[0], fixed, ws[1]}, opts)
			if err != nil {
				t.Fatal(err)
			}
			without, err := Build(b, s, layers, ws, opts)
			if err != nil {
				t.Fatal(err)
			}
			if with.N() != 108+200 || !slices.Equal(with.Plan(inject.Distinct, inject.SignXOR, 1).LayerWords, []int{108, 200}) {
				t.Fatalf("%s: N = %d, plan %v: the fixed layer is in the word memory", s.Name(), with.N(), with.Plan(inject.Distinct, inject.SignXOR, 1).LayerWords)
			}
			const ber, seed = 0.05, 3
			f, _ := inject.Count(ber, with.StoredBits())
			plan := with.Plan(inject.Distinct, inject.SignXOR, inject.CapacityFor(inject.Distinct, f, with.StoredBits()))
			trial := func(m *Memory) []*tensors.Tensor {
				out, err := MustNewExec(b, m.TrialGraph(plan)).Call(m.TrialArgs(seed, ber)...)
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			got, ref := trial(with), trial(without)
			for i, j := range map[int]int{0: 0, 2: 1} {
				if !slices.Equal(tensors.MustCopyFlatData[float32](got[i]), tensors.MustCopyFlatData[float32](ref[j])) {
					t.Errorf("%s: memory layer %s reads differently next to a fixed layer", s.Name(), all[i].Name)
				}
			}
			x := tensors.MustCopyFlatData[float32](fixed)
			var want []float32
			for ch := range 2 {
				chunk := x[4*ch : 4*ch+4]
				if _, ok := s.(storage.Baseline8); ok {
					q, sc := reference.QuantizeSymmetric8(chunk)
					for _, v := range q {
						want = append(want, reference.DequantizeSymmetric8(v, sc))
					}
				} else {
					q, sc, z := reference.QuantizeAffine(chunk, 4, true)
					for _, v := range q {
						want = append(want, reference.DequantizeAffine(v, sc, z))
					}
				}
			}
			if g := tensors.MustCopyFlatData[float32](got[1]); !slices.Equal(g, want) {
				t.Errorf("%s: fixed layer reads %v, want its plain quantized values %v", s.Name(), g, want)
			}
			if _, ok := s.(storage.TripleMSB); ok && want[1] != 3.5 {
				t.Errorf("code 2^w case: %g, want 3.5", want[1])
			}
		}
	})
}

// TestGoldenReadClassicCodes: without faults, every classic protection of docs/method.md §12
// reads back the same float32 weights as the unprotected scheme of its width, bit for bit (its
// encoding is lossless and nothing is erased), and counts N·W stored bits.
func TestGoldenReadClassicCodes(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	layers, ws := randomLayers(r, [][]int{{4, 3, 3, 3}, {10, 20}})
	backendtest.ForEach(t, func(t *testing.T, b compute.Backend) {
		read := func(s storage.Scheme) []float32 {
			m, err := Build(b, s, layers, ws, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if m.StoredBits() != int64(308*s.StoredBits()) {
				t.Errorf("%s: %d stored bits, want 308·%d", s.Name(), m.StoredBits(), s.StoredBits())
			}
			exec, err := NewExec(b, m.ReadGraph)
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Call(m.Args()...)
			if err != nil {
				t.Fatal(err)
			}
			var flat []float32
			for _, o := range out {
				flat = append(flat, tensors.MustCopyFlatData[float32](o)...)
			}
			return flat
		}
		for _, s := range []storage.Scheme{storage.Parity{Bits: 3}, storage.Parity{Bits: 7}, storage.Hamming{Bits: 2},
			storage.Hamming{Bits: 4}, storage.Hamming{Bits: 3, Extended: true}, storage.Hamming{Bits: 4, Extended: true},
			storage.TMR{Bits: 2}} {
			want := read(storage.Unprotected{Bits: s.Quant().Bits})
			if got := read(s); !slices.Equal(got, want) {
				t.Errorf("%s: fault-free read differs from U-%d's", s.Name(), s.Quant().Bits)
			}
		}
	})
}

// TestLayouts: the trial layout is the read layout with the seed and the BER after the words,
// Args and TrialArgs fill them, and a graph called with the other one's arguments fails with an
// error that names the layout rather than reading the wrong inputs.
func TestLayouts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	layers, ws := randomLayers(r, [][]int{{4, 3}, {2, 4}})
	_, fws := randomLayers(r, [][]int{{3, 2}})
	layers = append(layers, FixedLayers([]string{"fixed"}, [][]int{{3, 2}})...)
	b := backendtest.Go(t)
	m, err := Build(b, storage.TripleMSB{Bits: 4}, layers, append(ws, fws...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.ReadLayout().String(), "words, scales[3], zeros[3], codes[1]"; got != want {
		t.Errorf("ReadLayout %q, want %q", got, want)
	}
	if got, want := m.TrialLayout().String(), "words, seed, ber, scales[3], zeros[3], codes[1]"; got != want {
		t.Errorf("TrialLayout %q, want %q", got, want)
	}
	if a, ta := m.Args(), m.TrialArgs(1, 0.5); len(a) != 8 || len(ta) != 10 || a[0] != m.Words || ta[0] != m.Words ||
		a[1] != m.Scales[0] || ta[3] != m.Scales[0] || a[7] != m.Codes[0] || ta[9] != m.Codes[0] {
		t.Errorf("Args %v, TrialArgs %v: not in the layouts' order", a, ta)
	}
	exec, err := NewExec(b, m.ReadGraph)
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	if _, err := exec.Call(m.TrialArgs(1, 0.5)...); err == nil || !strings.Contains(err.Error(), "10 inputs, want 8") {
		t.Errorf("ReadGraph called with a trial's arguments: error %v", err)
	}
}
