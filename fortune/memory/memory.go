// Package memory holds a model's injectable weights as FORTUNE stores them: quantized,
// encoded by a storage scheme and laid out as one flat word memory, layer after layer. It
// builds that memory from float32 weights, and reads it back as float32 weights inside a
// graph (decode, then dequantize), which is what inference sees after faults.
package memory

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

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
	// Offset is the first word of the layer in memory.
	Offset int
	// Words is the number of words (= weights).
	Words int
}

// Layout places layers back to back.
func Layout(names []string, shapes [][]int) []Layer {
	layers := make([]Layer, len(names))
	off := 0
	for i, name := range names {
		n := 1
		for _, d := range shapes[i] {
			n *= d
		}
		layers[i] = Layer{Name: name, Shape: shapes[i], Offset: off, Words: n}
		off += n
	}
	return layers
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
	// Layers lists the layers in memory order.
	Layers []Layer
	// Words is the uint8[N] memory of encoded words.
	Words *tensors.Tensor
	// Scales and Zeros hold each layer's per-channel (or per-tensor) scale and zero point.
	Scales, Zeros []*tensors.Tensor
}

// N returns the number of words.
func (m *Memory) N() int {
	last := m.Layers[len(m.Layers)-1]
	return last.Offset + last.Words
}

// StoredBits returns the bits of memory the paper counts: N·W ("Memory Utilization").
func (m *Memory) StoredBits() int64 { return int64(m.N()) * int64(m.Scheme.StoredBits()) }

// HeldBytes returns the bytes this simulation really holds: one byte per word plus the float32
// scale and zero point of every channel.
func (m *Memory) HeldBytes() int64 {
	b := int64(m.N())
	for i := range m.Scales {
		b += 4 * int64(m.Scales[i].Size()+m.Zeros[i].Size())
	}
	return b
}

// Plan returns a fault-injection plan over this memory.
func (m *Memory) Plan(placement inject.Placement, sign inject.SignFault, capacity int) inject.Plan {
	words := make([]int, len(m.Layers))
	for i, l := range m.Layers {
		words[i] = l.Words
	}
	return inject.Plan{LayerWords: words, StoredBits: m.Scheme.StoredBits(), Placement: placement,
		Sign: sign, Capacity: capacity}
}

// Build quantizes and encodes the weights (float32 tensors with the layers' shapes) into a
// memory, in one graph on the backend.
func Build(b compute.Backend, scheme storage.Scheme, layers []Layer, weights []*tensors.Tensor, opts Options) (*Memory, error) {
	if len(weights) != len(layers) {
		return nil, fmt.Errorf("memory: %d weights for %d layers", len(weights), len(layers))
	}
	for i, w := range weights {
		if w.DType() != dtypes.Float32 || w.Size() != layers[i].Words {
			return nil, fmt.Errorf("memory: layer %s: weight %s, want float32 with %d elements", layers[i].Name, w.Shape(), layers[i].Words)
		}
	}
	qc := scheme.Quant()
	qc.Granularity, qc.LegacyClamp = opts.Granularity, opts.LegacyClamp
	if err := qc.Validate(); err != nil {
		return nil, err
	}
	exec, err := NewExec(b, func(ws []*Node) []*Node {
		words := make([]*Node, len(ws))
		var out []*Node
		for i, w := range ws {
			codes, scale, zero := quant.Quantize(w, qc)
			words[i] = Reshape(scheme.Encode(codes), -1)
			out = append(out, scale, zero)
		}
		return append([]*Node{Concatenate(words, 0)}, out...)
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
	return m, nil
}

// Read decodes the (possibly faulty) words and dequantizes each layer: it returns one float32
// node per layer, with the layer's shape. scales and zeros are the graph's nodes for the
// memory's Scales and Zeros.
func Read(words *Node, scales, zeros []*Node, layers []Layer, scheme storage.Scheme, qc quant.Config) []*Node {
	// Bitwise decoding, eight words per uint64 lane: on the pure-Go backend it is several times
	// faster than a gather through the 256-entry table or byte-wise boolean logic.
	codes := storage.DecodeFast(words, scheme)
	out := make([]*Node, len(layers))
	for i, l := range layers {
		c := Slice(codes, AxisRange(l.Offset, l.Offset+l.Words))
		out[i] = quant.Dequantize(c, scales[i], zeros[i], qc, l.Shape...)
	}
	return out
}

// Args lists the inputs of the graphs ReadGraph and TrialGraph build: the words, then extra
// (for a trial: the uint64 seed and the float64 BER), then every layer's scale and zero point.
func (m *Memory) Args(extra ...any) []any {
	a := append([]any{m.Words}, extra...)
	for _, s := range m.Scales {
		a = append(a, s)
	}
	for _, z := range m.Zeros {
		a = append(a, z)
	}
	return a
}

// ReadGraph is the graph function of a fault-free read: inputs as Args() lists them, outputs
// the float32 weights of every layer.
func (m *Memory) ReadGraph(in []*Node) []*Node {
	n := len(m.Layers)
	return Read(in[0], in[1:1+n], in[1+n:], m.Layers, m.Scheme, m.Quant)
}

// TrialGraph returns the graph function of one fault trial with the given plan: inputs as
// Args(seed, ber) lists them; outputs the float32 weights of every layer, then inject's
// statistics vector.
func (m *Memory) TrialGraph(plan inject.Plan) func(in []*Node) []*Node {
	return func(in []*Node) []*Node {
		words, stats := inject.Inject(in[0], in[1], in[2], plan)
		return append(m.ReadGraph(append([]*Node{words}, in[3:]...)), stats)
	}
}
