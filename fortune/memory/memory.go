// Package memory holds a model's injectable weights as FORTUNE stores them: quantized,
// encoded by a storage scheme and laid out as one flat word memory, layer after layer. It
// builds that memory from float32 weights, and reads it back as float32 weights inside a
// graph (decode, then dequantize), which is what inference sees after faults.
//
// A memory can also hold fixed layers: weights quantized like the others but kept outside the word
// memory, never encoded, faulted or decoded, and dequantized from their plain codes. They are the
// authors' quantized layers that their layer_list leaves out (ResNet-18's downsample convolutions,
// docs/method.md §1.7): quanto quantizes every convolution and linear weight, the injector and the
// protection only touch the listed ones.
package memory

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/graphargs"
	"github.com/fortune-go/fortune/fortune/inject"
	"github.com/fortune-go/fortune/fortune/quant"
	"github.com/fortune-go/fortune/fortune/storage"
)

// Layer is one weight tensor's place in memory.
type Layer struct {
	// Name is the weight's state-dict name.
	Name string
	// Shape is the weight's shape; axis 0 is the output channel.
	Shape []int
	// Offset is the first word of the layer in memory (−1 for a fixed layer).
	Offset int
	// Words is the number of words (= weights).
	Words int
	// Fixed marks a layer quantized but kept out of the word memory: stored as its plain codes,
	// never encoded, faulted or decoded.
	Fixed bool
}

// Layout places layers back to back.
func Layout(names []string, shapes [][]int) []Layer {
	layers := make([]Layer, len(names))
	off := 0
	for i, name := range names {
		n := size(shapes[i])
		layers[i] = Layer{Name: name, Shape: shapes[i], Offset: off, Words: n}
		off += n
	}
	return layers
}

// FixedLayers describes fixed layers (see Layer.Fixed); append them to a Layout's layers.
func FixedLayers(names []string, shapes [][]int) []Layer {
	layers := make([]Layer, len(names))
	for i, name := range names {
		layers[i] = Layer{Name: name, Shape: shapes[i], Offset: -1, Words: size(shapes[i]), Fixed: true}
	}
	return layers
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Options tune how weights are quantized.
type Options struct {
	// Granularity is per channel (default) or per tensor.
	Granularity quant.Granularity
	// LegacyClamp clamps affine codes to [0, 255] (authors' library) instead of [0, 2^w−1].
	LegacyClamp bool
}

// Memory is the stored form of a model's injectable weights.
type Memory struct {
	// Scheme is the storage scheme (and so the quantization).
	Scheme storage.Scheme
	// Quant is the quantization used (the scheme's, with Options applied).
	Quant quant.Config
	// Layers lists the layers as given to Build: the memory's in memory order, and any fixed
	// ones.
	Layers []Layer
	// Words is the uint8[N] memory of encoded words.
	Words *tensors.Tensor
	// Scales and Zeros hold each layer's per-channel (or per-tensor) scale and zero point.
	Scales, Zeros []*tensors.Tensor
	// Codes holds the plain codes of the fixed layers, in their order in Layers.
	Codes []*tensors.Tensor
}

// N returns the number of words (fixed layers are not in the word memory).
func (m *Memory) N() int {
	n := 0
	for _, l := range m.Layers {
		if !l.Fixed {
			n += l.Words
		}
	}
	return n
}

// StoredBits returns the bits of memory the paper counts: N·W ("Memory Utilization").
func (m *Memory) StoredBits() int64 { return int64(m.N()) * int64(m.Scheme.StoredBits()) }

// HeldBytes returns the bytes this simulation really holds: one byte per word and per code of a
// fixed layer, plus the float32 scale and zero point of every channel.
func (m *Memory) HeldBytes() int64 {
	b := int64(m.N())
	for _, c := range m.Codes {
		b += int64(c.Size())
	}
	for i := range m.Scales {
		b += 4 * int64(m.Scales[i].Size()+m.Zeros[i].Size())
	}
	return b
}

// Plan returns a fault-injection plan over this memory (its word memory; fixed layers take no
// faults).
func (m *Memory) Plan(placement inject.Placement, sign inject.SignFault, capacity int) inject.Plan {
	var words []int
	for _, l := range m.Layers {
		if !l.Fixed {
			words = append(words, l.Words)
		}
	}
	return inject.Plan{LayerWords: words, StoredBits: m.Scheme.StoredBits(), Placement: placement,
		Sign: sign, Capacity: capacity}
}

// Build quantizes and encodes the weights (float32 tensors with the layers' shapes) into a
// memory, in one graph on the backend. Fixed layers are quantized the same way and kept as
// plain codes.
func Build(b compute.Backend, scheme storage.Scheme, layers []Layer, weights []*tensors.Tensor, opts Options) (*Memory, error) {
	if len(weights) != len(layers) {
		return nil, fmt.Errorf("memory: %d weights for %d layers", len(weights), len(layers))
	}
	off := 0
	for i, w := range weights {
		l := layers[i]
		if w.DType() != dtypes.Float32 || w.Size() != l.Words {
			return nil, fmt.Errorf("memory: layer %s: weight %s, want float32 with %d elements", l.Name, w.Shape(), l.Words)
		}
		if !l.Fixed {
			if l.Offset != off {
				return nil, fmt.Errorf("memory: layer %s at word %d, want %d (layers back to back, as Layout places them)", l.Name, l.Offset, off)
			}
			off += l.Words
		}
	}
	if off == 0 {
		return nil, fmt.Errorf("memory: no layer in the word memory")
	}
	qc := scheme.Quant()
	qc.Granularity, qc.LegacyClamp = opts.Granularity, opts.LegacyClamp
	if err := qc.Validate(); err != nil {
		return nil, err
	}
	exec, err := NewExec(b, func(ws []*Node) []*Node {
		var words, out, fixed []*Node
		for i, w := range ws {
			codes, scale, zero := quant.Quantize(w, qc)
			if layers[i].Fixed {
				fixed = append(fixed, Reshape(codes, -1))
			} else {
				words = append(words, Reshape(scheme.Encode(codes), -1))
			}
			out = append(out, scale, zero)
		}
		return append(append([]*Node{Concatenate(words, 0)}, out...), fixed...)
	})
	if err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	args := make([]any, len(weights))
	for i, w := range weights {
		args[i] = w
	}
	out, err := exec.Call(args...)
	if err != nil {
		return nil, fmt.Errorf("memory: building %s: %w", scheme.Name(), err)
	}
	m := &Memory{Scheme: scheme, Quant: qc, Layers: layers, Words: out[0]}
	for i := range layers {
		m.Scales = append(m.Scales, out[1+2*i])
		m.Zeros = append(m.Zeros, out[2+2*i])
	}
	m.Codes = out[1+2*len(layers):]
	return m, nil
}

// Read decodes the (possibly faulty) words and dequantizes each layer: it returns one float32
// node per layer, with the layer's shape; a word the scheme decodes to storage.Erased reads
// as 0. codes are the graph's nodes for the fixed layers'
// plain codes (the memory's Codes), scales and zeros those for its Scales and Zeros.
func Read(words *Node, codes, scales, zeros []*Node, layers []Layer, scheme storage.Scheme, qc quant.Config) []*Node {
	// Bitwise decoding, eight words per uint64 lane: on the pure-Go backend it is several times
	// faster than a gather through the 256-entry table or byte-wise boolean logic.
	decoded := storage.DecodeFast(words, scheme)
	out := make([]*Node, len(layers))
	fixed := 0
	for i, l := range layers {
		var c *Node
		if l.Fixed {
			c, fixed = codes[fixed], fixed+1
		} else {
			c = Slice(decoded, AxisRange(l.Offset, l.Offset+l.Words))
		}
		out[i] = quant.Dequantize(c, scales[i], zeros[i], qc, l.Shape...)
		if !l.Fixed && storage.Erases(scheme) {
			// A word whose error was detected but not corrected reads as the weight 0, the
			// channel's zero point (docs/method.md §12.2).
			erased := Reshape(Equal(c, Scalar(c.Graph(), dtypes.Uint8, storage.Erased)), l.Shape...)
			out[i] = Where(erased, ZerosLike(out[i]), out[i])
		}
	}
	return out
}

// ReadLayout describes the inputs of ReadGraph: "words", the groups "scales" and "zeros" (one
// per layer, in the order of Layers) and the group "codes" (one per fixed layer). Args builds
// them.
func (m *Memory) ReadLayout() *graphargs.Layout { return m.layout(false) }

// TrialLayout describes the inputs of a TrialGraph: those of ReadLayout with, after "words", the
// uint64 "seed" and the float64 "ber". TrialArgs builds them.
func (m *Memory) TrialLayout() *graphargs.Layout { return m.layout(true) }

func (m *Memory) layout(trial bool) *graphargs.Layout {
	l := new(graphargs.Layout).One("words")
	if trial {
		l.One("seed").One("ber")
	}
	fixed := 0
	for _, ly := range m.Layers {
		if ly.Fixed {
			fixed++
		}
	}
	return l.Group("scales", len(m.Layers)).Group("zeros", len(m.Layers)).Group("codes", fixed)
}

// args fills the memory's tensors into a ReadLayout or TrialLayout argument list.
func (m *Memory) args(l *graphargs.Layout) *graphargs.Args[*tensors.Tensor] {
	return graphargs.Build[*tensors.Tensor](l).Set("words", m.Words).
		SetGroup("scales", m.Scales).SetGroup("zeros", m.Zeros).SetGroup("codes", m.Codes)
}

// Args returns the arguments of ReadGraph (see ReadLayout), for Exec.Call.
func (m *Memory) Args() []any { return m.args(m.ReadLayout()).Any() }

// TrialArgs returns the arguments of a TrialGraph with the given seed and BER (see
// TrialLayout), for Exec.Call.
func (m *Memory) TrialArgs(seed uint64, ber float64) []any {
	return m.args(m.TrialLayout()).Set("seed", tensors.FromScalar(seed)).Set("ber", tensors.FromScalar(ber)).Any()
}

// ReadGraph is the graph function of a fault-free read: inputs as ReadLayout describes them,
// outputs the float32 weights of every layer, fixed ones included, in the order of Layers.
func (m *Memory) ReadGraph(nodes []*Node) []*Node {
	in := graphargs.Read(m.ReadLayout(), nodes)
	return m.read(in.One("words"), in)
}

// read is Read of words with the scales, zeros and codes of in.
func (m *Memory) read(words *Node, in *graphargs.Args[*Node]) []*Node {
	return Read(words, in.Group("codes"), in.Group("scales"), in.Group("zeros"), m.Layers, m.Scheme, m.Quant)
}

// TrialGraph returns the graph function of one fault trial with the given plan: inputs as
// TrialLayout describes them; outputs the float32 weights of every layer, then inject's
// statistics vector.
func (m *Memory) TrialGraph(plan inject.Plan) func(in []*Node) []*Node {
	layout := m.TrialLayout()
	return func(nodes []*Node) []*Node {
		in := graphargs.Read(layout, nodes)
		words, stats := inject.Inject(in.One("words"), in.One("seed"), in.One("ber"), plan)
		return append(m.read(words, in), stats)
	}
}
