// Package checkpoint holds a network's weights as named tensors in a fixed order, and reads and
// writes them: PyTorch state dicts (torch.save files, zip or legacy format), safetensors files,
// and this project's own checkpoints (safetensors with a metadata block, written atomically).
//
// Entries keep PyTorch's names, shapes and layouts (see package models), so a state dict moves
// between PyTorch and GoMLX without a per-model table. Values are float32, except batch-norm
// num_batches_tracked, which is int64 as in PyTorch; other float types (float64, float16,
// bfloat16) are converted to float32 and other integer types to int64 when a file is read.
package checkpoint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/internal/enum"
)

// DType is the element type of a [Tensor].
type DType int

const (
	// Float32 entries hold their values in Tensor.F32.
	Float32 DType = iota
	// Int64 entries (batch-norm num_batches_tracked) hold their values in Tensor.I64.
	Int64
)

// dtypeNames names the dtypes by their safetensors names, in value order.
var dtypeNames = enum.New[DType]("DType", "checkpoint: unknown dtype", "F32", "I64")

// String returns the dtype's safetensors name.
func (d DType) String() string { return dtypeNames.String(d) }

// ParseDType reads a dtype's safetensors name: "F32" or "I64".
func ParseDType(s string) (DType, error) { return dtypeNames.Parse(s) }

// MarshalText returns the dtype's safetensors name.
func (d DType) MarshalText() ([]byte, error) { return dtypeNames.MarshalText(d) }

// UnmarshalText reads a dtype's safetensors name, as ParseDType.
func (d *DType) UnmarshalText(b []byte) error { return dtypeNames.UnmarshalText(d, b) }

// Tensor is one named entry: a flat, row-major array and its shape.
type Tensor struct {
	// Name is the state-dict key, e.g. "features.0.weight".
	Name string
	// Shape is the PyTorch shape; empty for a scalar.
	Shape []int
	// DType says which of F32 and I64 holds the values.
	DType DType
	// F32 holds the values of a Float32 entry (nil otherwise).
	F32 []float32
	// I64 holds the values of an Int64 entry (nil otherwise).
	I64 []int64
}

// NewFloat32 returns a Float32 entry; data is used, not copied. A nil data allocates zeros.
func NewFloat32(name string, shape []int, data []float32) *Tensor {
	if data == nil {
		data = make([]float32, shapeSize(shape))
	}
	return &Tensor{Name: name, Shape: slices.Clone(shape), DType: Float32, F32: data}
}

// NewInt64 returns an Int64 entry; data is used, not copied. A nil data allocates zeros.
func NewInt64(name string, shape []int, data []int64) *Tensor {
	if data == nil {
		data = make([]int64, shapeSize(shape))
	}
	return &Tensor{Name: name, Shape: slices.Clone(shape), DType: Int64, I64: data}
}

// Size returns the number of elements the shape holds.
func (t *Tensor) Size() int { return shapeSize(t.Shape) }

// Len returns the number of values stored (equal to Size for a well-formed entry).
func (t *Tensor) Len() int {
	if t.DType == Int64 {
		return len(t.I64)
	}
	return len(t.F32)
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Name: t.Name, Shape: slices.Clone(t.Shape), DType: t.DType,
		F32: slices.Clone(t.F32), I64: slices.Clone(t.I64)}
}

// ToTensor returns a new GoMLX tensor holding a copy of the values.
func (t *Tensor) ToTensor() (*tensors.Tensor, error) {
	if t.Len() != t.Size() {
		return nil, fmt.Errorf("tensor %q: %d values for shape %v (%d elements)", t.Name, t.Len(), t.Shape, t.Size())
	}
	if t.DType == Int64 {
		return tensors.FromFlatDataAndDimensions(t.I64, t.Shape...), nil
	}
	return tensors.FromFlatDataAndDimensions(t.F32, t.Shape...), nil
}

// FromTensor copies a GoMLX tensor into a named entry. Float32 and Int64 tensors are kept as they
// are; Float64 becomes Float32 and Int32 becomes Int64.
func FromTensor(name string, t *tensors.Tensor) (*Tensor, error) {
	shape := t.Shape().Dimensions
	var out *Tensor
	var err error
	switch t.DType() {
	case dtypes.Float32:
		var data []float32
		data, err = tensors.CopyFlatData[float32](t)
		out = NewFloat32(name, shape, data)
	case dtypes.Float64:
		var data []float64
		data, err = tensors.CopyFlatData[float64](t)
		out = NewFloat32(name, shape, make([]float32, len(data)))
		for i, v := range data {
			out.F32[i] = float32(v)
		}
	case dtypes.Int64:
		var data []int64
		data, err = tensors.CopyFlatData[int64](t)
		out = NewInt64(name, shape, data)
	case dtypes.Int32:
		var data []int32
		data, err = tensors.CopyFlatData[int32](t)
		out = NewInt64(name, shape, make([]int64, len(data)))
		for i, v := range data {
			out.I64[i] = int64(v)
		}
	default:
		return nil, fmt.Errorf("tensor %q: unsupported dtype %s", name, t.DType())
	}
	if err != nil {
		return nil, fmt.Errorf("tensor %q: reading values: %w", name, err)
	}
	return out, nil
}

// Params is an ordered set of named entries (a state dict). The zero value is empty and ready to
// use. It is not safe for concurrent modification.
type Params struct {
	list   []*Tensor
	byName map[string]int
}

// NewParams returns a Params holding the given entries in order; it fails on a duplicate name.
func NewParams(entries ...*Tensor) (*Params, error) {
	p := &Params{}
	for _, t := range entries {
		if err := p.Add(t); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Add appends an entry; it fails if the name is already present.
func (p *Params) Add(t *Tensor) error {
	if p.byName == nil {
		p.byName = map[string]int{}
	}
	if _, dup := p.byName[t.Name]; dup {
		return fmt.Errorf("duplicate tensor %q", t.Name)
	}
	p.byName[t.Name] = len(p.list)
	p.list = append(p.list, t)
	return nil
}

// Set replaces the entry of the same name, or appends it if absent.
func (p *Params) Set(t *Tensor) {
	if i, ok := p.byName[t.Name]; ok {
		p.list[i] = t
		return
	}
	_ = p.Add(t)
}

// Get returns the named entry, or nil.
func (p *Params) Get(name string) *Tensor {
	if i, ok := p.byName[name]; ok {
		return p.list[i]
	}
	return nil
}

// Len returns the number of entries.
func (p *Params) Len() int { return len(p.list) }

// All returns the entries in order (the slice is shared; do not modify it).
func (p *Params) All() []*Tensor { return p.list }

// Names returns the entry names in order.
func (p *Params) Names() []string {
	names := make([]string, len(p.list))
	for i, t := range p.list {
		names[i] = t.Name
	}
	return names
}

// Clone returns a deep copy.
func (p *Params) Clone() *Params {
	out := &Params{}
	for _, t := range p.list {
		_ = out.Add(t.Clone())
	}
	return out
}

// ToTensors returns one GoMLX tensor per entry, in order.
func (p *Params) ToTensors() ([]*tensors.Tensor, error) {
	out := make([]*tensors.Tensor, len(p.list))
	for i, t := range p.list {
		var err error
		if out[i], err = t.ToTensor(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FromTensors builds a Params from parallel lists of names and GoMLX tensors (see [FromTensor]).
func FromTensors(names []string, ts []*tensors.Tensor) (*Params, error) {
	if len(names) != len(ts) {
		return nil, fmt.Errorf("%d names for %d tensors", len(names), len(ts))
	}
	p := &Params{}
	for i, name := range names {
		t, err := FromTensor(name, ts[i])
		if err != nil {
			return nil, err
		}
		if err := p.Add(t); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// ExpectedDType returns the element type a parameter of this kind is stored with: Int64 for
// num_batches_tracked, Float32 otherwise.
func ExpectedDType(kind models.ParamKind) DType {
	if kind == models.BNCount {
		return Int64
	}
	return Float32
}

// Validate checks p against a model's parameter list: every spec present with the same shape and
// dtype, no unexpected entry, and values matching the shape. source (a file name, or "") is named
// in the error, which lists every problem found.
func (p *Params) Validate(specs []models.ParamSpec, source string) error {
	var problems []string
	want := make(map[string]bool, len(specs))
	for _, s := range specs {
		want[s.Name] = true
		t := p.Get(s.Name)
		if t == nil {
			problems = append(problems, fmt.Sprintf("missing tensor %q (%s, shape %v)", s.Name, s.Kind, s.Shape))
			continue
		}
		if !slices.Equal(t.Shape, s.Shape) {
			problems = append(problems, fmt.Sprintf("tensor %q has shape %v, want %v", s.Name, t.Shape, s.Shape))
		}
		if wantType := ExpectedDType(s.Kind); t.DType != wantType {
			problems = append(problems, fmt.Sprintf("tensor %q has dtype %s, want %s", s.Name, t.DType, wantType))
		}
		if t.Len() != t.Size() {
			problems = append(problems, fmt.Sprintf("tensor %q holds %d values for shape %v", s.Name, t.Len(), t.Shape))
		}
	}
	for _, t := range p.list {
		if !want[t.Name] {
			problems = append(problems, fmt.Sprintf("unexpected tensor %q (shape %v)", t.Name, t.Shape))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	where := ""
	if source != "" {
		where = " in " + source
	}
	const maxShown = 20
	if len(problems) > maxShown {
		problems = append(problems[:maxShown], fmt.Sprintf("... and %d more", len(problems)-maxShown))
	}
	return fmt.Errorf("checkpoint%s does not match the model: %s", where, strings.Join(problems, "; "))
}

// StatePrefix starts the names of entries that are training state rather than weights (the
// optimizer's momentum buffers in a training checkpoint, e.g. "optimizer.momentum.fc.weight").
// [Params.Conform] drops them, so a training checkpoint loads as plain weights.
const StatePrefix = "optimizer."

// Conform returns the entries of p reordered to the model's parameter order, after validating
// them (see [Params.Validate]). Entries named with [StatePrefix] are dropped. Like PyTorch's
// load_state_dict it tolerates two differences: a "module." prefix on every key (a state dict
// saved from nn.DataParallel) is removed, and a missing num_batches_tracked entry is filled
// with 0. The returned Params shares values with p.
func (p *Params) Conform(specs []models.ParamSpec, source string) (*Params, error) {
	src := &Params{}
	for _, t := range p.list {
		if !strings.HasPrefix(t.Name, StatePrefix) {
			_ = src.Add(t)
		}
	}
	p = src
	if p.Len() > 0 && len(specs) > 0 && p.Get(specs[0].Name) == nil && allPrefixed(p.list, "module.") {
		src = &Params{}
		for _, t := range p.list {
			c := *t
			c.Name = strings.TrimPrefix(t.Name, "module.")
			if err := src.Add(&c); err != nil {
				return nil, fmt.Errorf("checkpoint %s: %w", source, err)
			}
		}
	}
	out := &Params{}
	for _, s := range specs {
		t := src.Get(s.Name)
		if t == nil && s.Kind == models.BNCount {
			t = NewInt64(s.Name, s.Shape, nil)
		}
		if t == nil {
			continue // Reported by Validate below.
		}
		_ = out.Add(t)
	}
	for _, t := range src.list {
		if out.Get(t.Name) == nil {
			_ = out.Add(t) // Unexpected entries: keep them so Validate reports them.
		}
	}
	if err := out.Validate(specs, source); err != nil {
		return nil, err
	}
	return out, nil
}

func allPrefixed(list []*Tensor, prefix string) bool {
	for _, t := range list {
		if !strings.HasPrefix(t.Name, prefix) {
			return false
		}
	}
	return true
}

// shapeSize returns the number of elements of a shape (1 for a scalar).
func shapeSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
