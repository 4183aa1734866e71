package campaign

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/fortune/inject"
	"github.com/fortune-go/fortune/fortune/internal/backendtest"
	"github.com/fortune-go/fortune/fortune/internal/reference"
	"github.com/fortune-go/fortune/fortune/memory"
	"github.com/fortune-go/fortune/fortune/storage"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/train"
)

// legacyRunner returns a runner of the authors' protocol for a paper model with random weights
// and two random CIFAR-sized images (nothing here evaluates them).
func legacyRunner(t *testing.T, model string) *runner {
	t.Helper()
	m, err := models.New(model)
	if err != nil {
		t.Fatal(err)
	}
	p, err := train.InitParams(m.Params(), 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 2*3*32*32)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	su := Setup{Backend: backendtest.Go(t), Info: backend.Info{Name: "go", Config: "go"}, Model: m, Params: p,
		Eval: &train.SliceDataset{X: x, Y: []int32{1, 2}}}
	s := Settings{Model: model, Variants: []string{"8-bit", "P-4"}, BERs: []float64{1e-4}, Trials: 1, Seed: 1,
		Placement: inject.Legacy, SignNegate: true, LegacyLayers: true, LegacyClamp: true, Eval: "random", BatchSize: 2}
	run, err := newRunner(su, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(run.close)
	return run
}

// TestLegacyQuantizesUnlistedLayers: in the authors' protocol ResNet-18's downsample convolutions
// are quantized like every conv/linear weight (quanto converts them all) and only left out of fault
// injection and protection (docs/method.md §1.7): inference sees their dequantized codes, in the
// golden run and in a faulty trial alike, and n counts the 18 listed layers only.
func TestLegacyQuantizesUnlistedLayers(t *testing.T) {
	r := legacyRunner(t, "resnet18")
	const name = "layer3.0.downsample.0.weight"
	at := slices.IndexFunc(r.layers, func(l memory.Layer) bool { return l.Name == name })
	if at < 0 {
		t.Fatalf("%s is not among the weights a variant replaces: it stays FP32", name)
	}
	fp32 := tensors.MustCopyFlatData[float32](r.params[r.index[name]])
	for _, scheme := range []storage.Scheme{storage.Baseline8{}, storage.TripleMSB{Bits: 4}} {
		vg, err := r.build(scheme)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := vg.plan.Bits(), int64(10_992_320*scheme.StoredBits()); got != want {
			t.Errorf("%s: n = %d bits, want %d (the 18 listed layers)", scheme.Name(), got, want)
		}
		// The reference: quantize each output channel, dequantize the plain code (no encoding).
		l := r.layers[at]
		per := l.Words / l.Shape[0]
		want := make([]float32, l.Words)
		for ch := range l.Shape[0] {
			chunk := fp32[ch*per : (ch+1)*per]
			if _, ok := scheme.(storage.Baseline8); ok {
				q, s := reference.QuantizeSymmetric8(chunk)
				for j, v := range q {
					want[ch*per+j] = reference.DequantizeSymmetric8(v, s)
				}
			} else {
				q, s, z := reference.QuantizeAffine(chunk, 4, true)
				for j, v := range q {
					want[ch*per+j] = reference.DequantizeAffine(v, s, z)
				}
			}
		}
		golden, err := vg.read.Call(vg.mem.Args()...)
		if err != nil {
			t.Fatal(err)
		}
		if got := tensors.MustCopyFlatData[float32](golden[at]); !slices.Equal(got, want) {
			t.Errorf("%s: golden %s is not its quantized value", scheme.Name(), name)
		}
		finalizeAll(golden)
		faulty, err := vg.faultGraph(1e-4)
		if err != nil {
			t.Fatal(err)
		}
		out, err := faulty.Call(vg.mem.TrialArgs(5, 1e-4)...)
		if err != nil {
			t.Fatal(err)
		}
		if st := tensors.MustCopyFlatData[int32](out[len(out)-1]); st[0] < 800 || st[1] != 0 {
			t.Fatalf("%s: trial statistics %v, want about F sites and no shortfall", scheme.Name(), st)
		}
		if got := tensors.MustCopyFlatData[float32](out[at]); !slices.Equal(got, want) {
			t.Errorf("%s: a trial changed %s, which the authors never fault", scheme.Name(), name)
		}
		finalizeAll(out)
		vg.close()
	}
}

// TestLegacyLayerListPerVariant: the authors' Inception 8-bit driver draws layers from its 93-entry
// list (two layers twice), the 4- and 5-bit drivers from the 91 layers once (docs/method.md §1.7):
// F and the recorded memory follow from n = 21,626,432·8 and 21,604,928·6 respectively.
func TestLegacyLayerListPerVariant(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Inception-v3's memory twice")
	}
	r := legacyRunner(t, "inception_v3")
	for _, tc := range []struct {
		scheme  storage.Scheme
		entries int
		bits    int64
	}{
		{storage.Baseline8{}, 93, 21_626_432 * 8},
		{storage.TripleMSB{Bits: 4}, 91, 21_604_928 * 6},
	} {
		vg, err := r.build(tc.scheme)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(vg.plan.LayerWords); n != tc.entries || vg.plan.Bits() != tc.bits {
			t.Errorf("%s: %d layer_list entries, n = %d bits; want %d, %d", tc.scheme.Name(), n, vg.plan.Bits(), tc.entries, tc.bits)
		}
		vg.close()
	}
}

// TestFaultGraphPerBER: each BER's fault graph holds the candidates of its own fault count, not
// the campaign's largest (a capacity sized for 3e-2 made VGG-11's trials at 1e-3 six times
// slower), and one graph serves every trial of a BER.
func TestFaultGraphPerBER(t *testing.T) {
	r := legacyRunner(t, "lenet5_cifar")
	vg, err := r.build(storage.TripleMSB{Bits: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer vg.close()
	for _, ber := range []float64{1e-3, 3e-2, 1e-3} {
		if _, err := vg.faultGraph(ber); err != nil {
			t.Fatal(err)
		}
	}
	if len(vg.faulty) != 2 {
		t.Fatalf("%d fault graphs for 2 BERs", len(vg.faulty))
	}
	for _, ber := range []float64{1e-3, 3e-2} {
		f, _ := inject.Count(ber, vg.plan.Bits())
		k := inject.CapacityFor(vg.plan.Placement, f, vg.plan.Bits())
		if vg.faulty[k] == nil {
			t.Errorf("BER %g: no fault graph of capacity %d (F = %d); have %v", ber, k, f, keys(vg.faulty))
		}
	}
}

func keys[V any](m map[int]V) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
