package campaign

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/fortune/inject"
	"github.com/fortune-go/fortune/fortune/internal/backendtest"
	"github.com/fortune-go/fortune/fortune/internal/reference"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/train"
)

// The end-to-end campaign: LeNet-5 with random weights on e2eImages random images, in batches of
// e2eBatch (the last one partial, so the campaign's padding is exercised too).
const (
	e2eModel  = "lenet5"
	e2eImages = 56
	e2eBatch  = 16
	e2eSeed   = 20240611
)

// e2eLayerLists is the authors' layer_list of each network this test runs, written out from
// the repository's description of the injected layers ("only conv/linear weights of the listed
// layers are injected and protected"; VGG-11 and AlexNet list every conv and linear layer). The
// project's LeNet-5 is not one of the paper's networks; like those two, every conv/linear
// weight is listed, in the network's order.
var e2eLayerLists = map[string][]string{
	"lenet5": {"conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight", "fc3.weight"},
}

// TestLegacyCampaignMatchesIndependent runs a small campaign of the authors' protocol end to end
// through Run, the entry point of `fortune campaign` (with the settings its --legacy flag
// chooses: layer lists, [0, 255] clamp, 8-bit sign faults as negation), under both placements
// that draw with replacement as the authors' injector did: their layer-uniform one ("legacy",
// the --legacy default) and the uniform one ("replacement", the --placement override). Then it
// recomputes every record without the campaign's graphs: the trial seed from its documented
// derivation, F = ⌊BER·n⌋, the fault sites with the plain-Go reference sampler, quantization,
// encoding, injection in draw order (a sign negation does not commute with the flips of the same
// word), majority-vote decoding and dequantization with package reference, and the accuracy of
// the network run on those weights by its own forward pass (state-dict weights, not the
// campaign's prepared inference graph). Fault count, distinct sites, seed, correct count and
// accuracy of every record must be equal, exactly.
//
// The images are labelled with the FP32 network's own predictions (its accuracy is 100% by
// construction), and the weights are scaled so that predictions depend on the input: a trial
// that used other faults, another sign model, decode or clamp than the reference would most
// likely classify a different number of images correctly. The test also checks that its trials
// exercise what they are meant to: accuracy drops, 8-bit words whose value depends on the order
// of a sign negation and a flip, majority votes that restore a data MSB, and affine codes of
// 2^w that only the legacy clamp keeps.
func TestLegacyCampaignMatchesIndependent(t *testing.T) {
	su, fwd := e2eSetup(t)
	specs, fp32 := fwd.specs, fwd.fp32

	variants := []string{"8-bit", "P-4", "P-3"}
	bers := []float64{1e-3, 1e-2}
	const trials = 2
	for _, placement := range []inject.Placement{inject.Legacy, inject.WithReplacement} {
		t.Run(placement.String(), func(t *testing.T) {
			s := Settings{Model: e2eModel, Weights: "random (InitParams seed 1)", Variants: variants, BERs: bers,
				Trials: trials, Seed: e2eSeed, Placement: placement, SignNegate: true, LegacyLayers: true,
				LegacyClamp: true, Eval: "random images labelled by the FP32 network", BatchSize: e2eBatch, TimingRuns: 1}
			recs, err := Run(context.Background(), su, s, filepath.Join(t.TempDir(), "legacy.jsonl"))
			if err != nil {
				t.Fatalf("campaign: %v", err)
			}
			fp, golden, trialRecs := splitRecords(t, recs)
			if fp.Correct != e2eImages || fp.Total != e2eImages {
				t.Errorf("FP32 record %d/%d correct, want %d/%d (the labels are its own predictions)",
					fp.Correct, fp.Total, e2eImages, e2eImages)
			}
			if n := len(trialRecs); n != len(variants)*len(bers)*trials {
				t.Errorf("%d trial records, want %d", n, len(variants)*len(bers)*trials)
			}
			// Coverage: the trials change the outcome, and exercise the order of sign negations
			// and the majority vote.
			var dropped, reordered, corrected int
			for _, v := range variants {
				mem, err := newRefMemory(v, specs, fp32, e2eLayerLists[e2eModel], s.LegacyClamp)
				if err != nil {
					t.Fatal(err)
				}
				g, ok := golden[v]
				if !ok {
					t.Fatalf("%s: no golden record", v)
				}
				want, err := fwd.correct(mem.read(mem.words))
				if err != nil {
					t.Fatal(err)
				}
				if g.Correct != want || g.Total != e2eImages || g.MemoryBits != mem.bits() {
					t.Errorf("%s golden: %d/%d correct, %d bits; independent %d/%d, %d bits",
						v, g.Correct, g.Total, g.MemoryBits, want, e2eImages, mem.bits())
				}
				if !mem.signed && mem.overflows == 0 {
					t.Errorf("%s: no code above 2^w−1: the legacy clamp is not exercised", v)
				}
				negate := s.SignNegate && mem.signed
				for _, ber := range bers {
					for trial := range trials {
						name := fmt.Sprintf("%s BER %g trial %d", v, ber, trial)
						rec, ok := trialRecs[fmt.Sprintf("%s|%g|%d", v, ber, trial)]
						if !ok {
							t.Errorf("%s: no record", name)
							continue
						}
						seed := e2eTrialSeed(s.Seed, s.Model, v, ber, trial)
						f := int(ber * float64(mem.bits()))
						seq := mem.draw(placement, seed, f)
						words := slices.Clone(mem.words)
						reference.Apply(words, seq, mem.stored, negate)
						sites := refSites(seq, mem.stored, negate)
						want, err := fwd.correct(mem.read(words))
						if err != nil {
							t.Fatal(err)
						}
						acc := 100 * float64(want) / float64(e2eImages)
						if rec.Seed != seed || rec.Faults != f || rec.Sites != sites || rec.Correct != want ||
							rec.Total != e2eImages || rec.Accuracy() != acc {
							t.Errorf("%s: recorded seed %#x, %d faults, %d sites, %d/%d correct (%.4f%%); "+
								"independent seed %#x, %d faults, %d sites, %d/%d correct (%.4f%%)",
								name, rec.Seed, rec.Faults, rec.Sites, rec.Correct, rec.Total, rec.Accuracy(),
								seed, f, sites, want, e2eImages, acc)
						}
						if f == 0 || sites == 0 {
							t.Errorf("%s: %d faults, %d sites: the BER is too low to test anything", name, f, sites)
						}
						if want != g.Correct {
							dropped++
						}
						if negate && signOrderMatters(mem.words, seq, mem.stored) {
							reordered++
						}
						if !mem.signed {
							corrected += mem.votesWon(words)
						}
					}
				}
			}
			if dropped == 0 {
				t.Errorf("no trial classifies a different number of images correctly than its golden run")
			}
			if reordered == 0 {
				t.Errorf("no 8-bit trial has a word whose result depends on the order of a sign negation and a flip")
			}
			if corrected == 0 {
				t.Errorf("no P-w trial has a word whose data MSB the majority vote restored")
			}
		})
	}
}

// e2eSetup returns the campaign setup (LeNet-5, random weights, e2eImages random images labelled
// with the FP32 network's predictions) and the forward pass that evaluates them.
func e2eSetup(t *testing.T) (Setup, *e2eForward) {
	t.Helper()
	m, err := models.New(e2eModel)
	if err != nil {
		t.Fatal(err)
	}
	p, err := train.InitParams(m.Params(), 1)
	if err != nil {
		t.Fatal(err)
	}
	// PyTorch's initialization (weights within ±1/√fan_in) shrinks the signal layer after layer:
	// the biases decide, and every image falls in the same class. He-scaled weights (×√6: the
	// standard deviation √(2/fan_in)) and zero biases keep the classes input dependent, with
	// margins that quantization and faults can cross.
	for _, s := range m.Params() {
		w := p.Get(s.Name).F32
		for i := range w {
			if s.Kind.IsWeight() {
				w[i] *= float32(math.Sqrt(6))
			} else {
				w[i] = 0
			}
		}
	}
	// Two channels of conv1 whose affine codes hit the authors' double rounding (round(x/s) and
	// z = round(−min/s) rounded apart, both ties rounding up): their maximum gets the code 2^w,
	// which the [0, 255] clamp keeps and the MSB encoding then turns into 0. Channel 0 does it at
	// w = 3 (min −3.5·s, max 3.5·s, s = 1/8), channel 1 at w = 4 (min −3.5·s, max 11.5·s,
	// s = 1/16); every value is exact in float32.
	conv1 := p.Get("conv1.weight").F32
	per := len(conv1) / 6
	for ch, v := range [][3]float32{{-0.4375, 0.4375, 0.125}, {-0.21875, 0.71875, 0.25}} {
		for j := range per {
			conv1[ch*per+j] = v[j%3]
		}
	}
	shape := m.InputShape()
	r := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, e2eImages*shape[0]*shape[1]*shape[2])
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	b := backendtest.Go(t)
	fwd, err := newE2EForward(b, m, x, e2eBatch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fwd.close)
	ts, err := train.ParamTensors(m, p)
	if err != nil {
		t.Fatal(err)
	}
	fwd.fp32 = map[string][]float32{}
	for i, s := range fwd.specs {
		fwd.fp32[s.Name] = tensors.MustCopyFlatData[float32](ts[i])
	}
	labels, err := fwd.predict(ts)
	finalizeAll(ts)
	if err != nil {
		t.Fatal(err)
	}
	fwd.labels = labels
	return Setup{Backend: b, Info: backend.Info{Name: "go", Config: "go"}, Model: m, Params: p,
		Eval: &train.SliceDataset{X: x, Y: slices.Clone(labels)}}, fwd
}

// splitRecords sorts the campaign's records: the FP32 one, the golden ones by variant, the
// trials by "variant|BER|trial". A record found twice is an error.
func splitRecords(t *testing.T, recs []Record) (fp32 Record, golden, trials map[string]Record) {
	t.Helper()
	golden, trials = map[string]Record{}, map[string]Record{}
	for _, r := range recs {
		var m map[string]Record
		k := r.Variant
		switch r.Kind {
		case "fp32":
			fp32 = r
			continue
		case "golden":
			m = golden
		case "trial":
			m, k = trials, fmt.Sprintf("%s|%g|%d", r.Variant, r.BER, r.Trial)
		default:
			continue
		}
		if _, dup := m[k]; dup {
			t.Errorf("%s record %s written twice", r.Kind, k)
		}
		m[k] = r
	}
	return fp32, golden, trials
}

// e2eTrialSeed is the trial seed as the campaign documents its derivation (TrialSeed): value
// `trial` of the SplitMix64 stream whose seed is the campaign seed XOR the 64-bit FNV-1a hash of
// "model|variant|BER", the BER written with %.6e.
func e2eTrialSeed(seed uint64, model, variant string, ber float64, trial int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%.6e", model, variant, ber)
	return reference.SplitMix64(seed^h.Sum64(), uint64(trial))
}

// refLayer is one quantized weight of the reference memory.
type refLayer struct {
	name  string
	shape []int
	// offset is the layer's first word in the word memory; −1 for a weight that is quantized
	// (every conv/linear weight is) but not in the layer list: its plain codes are used,
	// never encoded, faulted or decoded.
	offset int
	size   int
	codes  []uint8 // Plain codes of an unlisted layer.
	// scales and zeros hold each output channel's scale and zero point.
	scales, zeros []float32
}

// refMemory is the plain-Go model of a variant's stored weights: w-bit codes (the signed 8-bit
// baseline, or unsigned affine codes with two copies of their MSB for P-w), one byte per weight,
// the listed layers back to back in list order.
type refMemory struct {
	w      int  // Data width.
	signed bool // The 8-bit baseline (signed symmetric, stored as it is).
	stored int  // W, the bits per word counted as memory and exposed to faults.
	layers []refLayer
	words  []uint8
	// overflows counts the affine codes above 2^w−1, which only the legacy clamp lets through.
	overflows int
	// sizes and offsets describe the layer list's entries (the authors' injector picks an
	// entry uniformly, then a word in it).
	sizes, offsets []int
}

// newRefMemory quantizes the conv/linear weights of specs per output channel for variant
// ("8-bit" or "P-w") and stores the listed ones.
func newRefMemory(variant string, specs []models.ParamSpec, fp32 map[string][]float32, listed []string, legacyClamp bool) (*refMemory, error) {
	m := &refMemory{}
	switch {
	case variant == "8-bit":
		m.w, m.signed, m.stored = 8, true, 8
	case strings.HasPrefix(variant, "P-"):
		w, err := strconv.Atoi(variant[2:])
		if err != nil || w < 2 || w > 5 {
			return nil, fmt.Errorf("reference memory: variant %q: want P-2 … P-5", variant)
		}
		m.w, m.stored = w, w+2
	default:
		return nil, fmt.Errorf("reference memory: variant %q: want 8-bit or P-w", variant)
	}
	at := map[string]int{} // Listed layer → first word.
	for _, name := range listed {
		if _, ok := at[name]; ok {
			continue
		}
		i := slices.IndexFunc(specs, func(s models.ParamSpec) bool { return s.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("reference memory: listed layer %s is not a parameter", name)
		}
		at[name] = len(m.words)
		m.words = append(m.words, make([]uint8, specs[i].Size())...)
	}
	for _, name := range listed {
		m.offsets = append(m.offsets, at[name])
	}
	for _, s := range specs {
		if !s.Kind.IsWeight() {
			continue
		}
		l := refLayer{name: s.Name, shape: s.Shape, offset: -1, size: s.Size()}
		if off, ok := at[s.Name]; ok {
			l.offset = off
		}
		x := fp32[s.Name]
		per := l.size / s.Shape[0]
		codes := make([]uint8, l.size)
		for ch := range s.Shape[0] {
			chunk := x[ch*per : (ch+1)*per]
			var q []uint8
			var scale, zero float32
			if m.signed {
				q, scale = reference.QuantizeSymmetric8(chunk)
			} else {
				q, scale, zero = reference.QuantizeAffine(chunk, m.w, legacyClamp)
			}
			copy(codes[ch*per:], q)
			for _, c := range q {
				if !m.signed && int(c) >= 1<<m.w {
					m.overflows++
				}
			}
			l.scales, l.zeros = append(l.scales, scale), append(l.zeros, zero)
		}
		if l.offset < 0 {
			l.codes = codes
		} else {
			for j, c := range codes {
				if !m.signed {
					c = reference.EncodeTMSB(c, m.w)
				}
				m.words[l.offset+j] = c
			}
		}
		m.layers = append(m.layers, l)
	}
	for _, name := range listed {
		i := slices.IndexFunc(m.layers, func(l refLayer) bool { return l.name == name })
		if i < 0 {
			return nil, fmt.Errorf("reference memory: listed layer %s is not a conv/linear weight", name)
		}
		m.sizes = append(m.sizes, m.layers[i].size)
	}
	return m, nil
}

// bits returns n, the stored bits faults are drawn from: the words of every layer-list entry
// (an entry listed twice counts twice, as the authors' code counted) times W.
func (m *refMemory) bits() int64 {
	n := 0
	for _, s := range m.sizes {
		n += s
	}
	return int64(n) * int64(m.stored)
}

// draw returns a trial's f faults in draw order: the authors' layer-uniform draws ("legacy") or
// draws uniform over all n bits ("replacement"), both with replacement.
func (m *refMemory) draw(placement inject.Placement, seed uint64, f int) []reference.Site {
	if placement == inject.Legacy {
		return reference.SequenceLegacy(seed, m.sizes, m.offsets, m.stored, f)
	}
	return reference.SequenceWithReplacement(seed, uint64(m.bits()), f)
}

// decode reads one stored word back as a code.
func (m *refMemory) decode(word uint8) uint8 {
	if m.signed {
		return word
	}
	return reference.DecodeTMSB(word, m.w)
}

// read decodes and dequantizes the (possibly faulty) words: the float32 value of every
// quantized weight, by name.
func (m *refMemory) read(words []uint8) map[string][]float32 {
	out := map[string][]float32{}
	for _, l := range m.layers {
		per := l.size / l.shape[0]
		v := make([]float32, l.size)
		for j := range v {
			var c uint8
			if l.offset < 0 {
				c = l.codes[j]
			} else {
				c = m.decode(words[l.offset+j])
			}
			ch := j / per
			if m.signed {
				v[j] = reference.DequantizeSymmetric8(c, l.scales[ch])
			} else {
				v[j] = reference.DequantizeAffine(c, l.scales[ch], l.zeros[ch])
			}
		}
		out[l.name] = v
	}
	return out
}

// votesWon counts the faulty P-w words whose data MSB (bit w−1) was flipped and restored by the
// majority vote of its three copies.
func (m *refMemory) votesWon(faulty []uint8) int {
	msb := uint8(1) << (m.w - 1)
	n := 0
	for j, s := range faulty {
		if s&msb != m.words[j]&msb && m.decode(s)&msb == m.words[j]&msb {
			n++
		}
	}
	return n
}

// refSites counts the bit positions a trial changed: those hit an odd number of times (a
// flip hit twice flips back), and, with the legacy sign negation, every sign bit hit at all.
func refSites(seq []reference.Site, stored int, negate bool) int {
	n := 0
	for _, s := range reference.Group(seq) {
		if s.Count%2 == 1 || (negate && s.Pos%uint64(stored) == 7) {
			n++
		}
	}
	return n
}

// signOrderMatters reports whether applying the sign negations of seq after all flips, rather
// than in draw order, would change a word: then a trial checks that the faults were applied in
// draw order.
func signOrderMatters(words []uint8, seq []reference.Site, stored int) bool {
	inOrder, signsLast := slices.Clone(words), slices.Clone(words)
	reference.Apply(inOrder, seq, stored, true)
	sorted := slices.Clone(seq)
	slices.SortStableFunc(sorted, func(a, b reference.Site) int {
		sa, sb := a.Pos%uint64(stored) == 7, b.Pos%uint64(stored) == 7
		switch {
		case sa == sb:
			return 0
		case sb:
			return -1
		}
		return 1
	})
	reference.Apply(signsLast, sorted, stored, true)
	return !slices.Equal(inOrder, signsLast)
}

// e2eForward classifies the evaluation images with the project's GoMLX network fed state-dict
// weights (Forward without Model.Prepare), in batches like the campaign's, the last padded with
// zero images.
type e2eForward struct {
	specs  []models.ParamSpec
	fp32   map[string][]float32 // Every parameter's FP32 value, by name.
	exec   *graph.Exec
	x      []float32
	labels []int32
	shape  [3]int
	batch  int
}

func newE2EForward(b compute.Backend, m models.Model, x []float32, batch int) (*e2eForward, error) {
	specs := m.Params()
	exec, err := graph.NewExec(b, func(in []*graph.Node) *graph.Node {
		n := len(specs)
		logits, _ := m.Forward(train.ParamNodes(specs, in[:n]), in[n], models.Mode{})
		return graph.ArgMax(logits, -1, dtypes.Int32)
	})
	if err != nil {
		return nil, fmt.Errorf("forward %s: %w", m.Name(), err)
	}
	return &e2eForward{specs: specs, exec: exec, x: x, shape: m.InputShape(), batch: batch}, nil
}

func (f *e2eForward) close() { f.exec.Finalize() }

// predict returns the class of every image with params (one tensor per parameter, in the
// model's order).
func (f *e2eForward) predict(params []*tensors.Tensor) ([]int32, error) {
	size := f.shape[0] * f.shape[1] * f.shape[2]
	images := len(f.x) / size
	var pred []int32
	for start := 0; start < images; start += f.batch {
		n := min(f.batch, images-start)
		x := make([]float32, f.batch*size)
		copy(x, f.x[start*size:(start+n)*size])
		xt := tensors.FromFlatDataAndDimensions(x, f.batch, f.shape[0], f.shape[1], f.shape[2])
		args := make([]any, 0, len(params)+1)
		for _, p := range params {
			args = append(args, p)
		}
		out, err := f.exec.Call(append(args, xt)...)
		xt.FinalizeAll()
		if err != nil {
			return nil, fmt.Errorf("forward: batch at %d: %w", start, err)
		}
		p := tensors.MustCopyFlatData[int32](out[0])
		finalizeAll(out)
		pred = append(pred, p[:n]...)
	}
	return pred, nil
}

// correct counts the images classified as labelled when the quantized weights take the values
// of weights (by name) and every other parameter (biases) keeps its FP32 value.
func (f *e2eForward) correct(weights map[string][]float32) (int, error) {
	params := make([]*tensors.Tensor, len(f.specs))
	for i, s := range f.specs {
		w, ok := weights[s.Name]
		if !ok {
			w = f.fp32[s.Name]
		}
		params[i] = tensors.FromFlatDataAndDimensions(w, s.Shape...)
	}
	defer finalizeAll(params)
	pred, err := f.predict(params)
	if err != nil {
		return 0, err
	}
	n := 0
	for i, p := range pred {
		if p == f.labels[i] {
			n++
		}
	}
	return n, nil
}
