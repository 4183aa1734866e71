// Package models holds the networks of the FORTUNE paper (VGG-11-BN, ResNet-18, Inception-v3 for
// CIFAR-10; AlexNet for Fashion-MNIST) and a small LeNet-5 for demos, written as GoMLX graphs.
//
// A network is a pure function of its parameters: [Model.Forward] takes one graph node per
// PyTorch state-dict entry (same names, same shapes, same layouts: convolution weights are
// (O, I, kh, kw), linear weights (O, I)), so weights move between PyTorch and GoMLX without a
// per-model table, and the fault-injection campaign can replace any weight by its faulty,
// dequantized version inside the same compiled graph.
package models

import (
	"fmt"
	"runtime"
	"sort"
	"strings"

	"github.com/fortune-go/fortune/gomlx_models/nn"
	"github.com/fortune-go/fortune/internal/enum"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
)

// ParamKind classifies a state-dict entry.
type ParamKind int

const (
	// ConvWeight is a convolution kernel, shape (O, I, kh, kw).
	ConvWeight ParamKind = iota
	// LinearWeight is a fully connected weight, shape (O, I).
	LinearWeight
	// Bias is a convolution or linear bias, shape (O).
	Bias
	// BNWeight, BNBias, BNMean and BNVar are a batch-norm layer's affine parameters and running
	// statistics, shape (C).
	BNWeight
	BNBias
	BNMean
	BNVar
	// BNCount is PyTorch's num_batches_tracked (a scalar int64); it is kept for round trips only.
	BNCount
)

// paramKinds names the parameter kinds, in value order.
var paramKinds = enum.New[ParamKind]("ParamKind", "models: unknown parameter kind", "conv-weight", "linear-weight", "bias", "bn-weight", "bn-bias", "bn-running-mean", "bn-running-var", "bn-num-batches-tracked")

// String returns the parameter kind's name.
func (k ParamKind) String() string { return paramKinds.String(k) }

// ParseParamKind reads a parameter kind's name.
func ParseParamKind(s string) (ParamKind, error) { return paramKinds.Parse(s) }

// MarshalText returns the parameter kind's name.
func (k ParamKind) MarshalText() ([]byte, error) { return paramKinds.MarshalText(k) }

// UnmarshalText reads a parameter kind's name, as ParseParamKind.
func (k *ParamKind) UnmarshalText(b []byte) error { return paramKinds.UnmarshalText(k, b) }

// IsWeight reports whether the entry is a convolution or linear weight (what FORTUNE quantizes).
func (k ParamKind) IsWeight() bool { return k == ConvWeight || k == LinearWeight }

// ParamSpec describes one state-dict entry.
type ParamSpec struct {
	// Name is the PyTorch state-dict key, e.g. "features.0.weight" or "layer1.0.bn1.running_var".
	Name string
	// Shape is the PyTorch shape.
	Shape []int
	// Kind says what the entry is.
	Kind ParamKind
}

// Size returns the number of elements.
func (p ParamSpec) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// Mode selects how [Model.Forward] behaves.
type Mode struct {
	// Training uses batch statistics in batch norm and active dropout.
	Training bool
	// LegacyDropout keeps dropout active at evaluation where the authors' code did (AlexNet's
	// functional dropout, which the authors' code applies in eval mode too). It needs DropoutSeed.
	LegacyDropout bool
	// DropoutSeed is a uint64 scalar that seeds the active dropout layers' masks (nn.Dropout:
	// counter-based, the same on every backend); nil when no dropout is active.
	DropoutSeed *Node
	// UseNativeConv forces GoMLX's native convolution; otherwise the implementation picks
	// Winograd or patches+MatMul on the pure-Go backend and the native op on XLA.
	UseNativeConv bool
	// Prepared says that Forward's params are the inference-ready weights returned by
	// [Model.Prepare] rather than the state dict. Not valid with Training.
	Prepared bool
	// NoBatchSplit turns off the batch split on the pure-Go backend (see [BatchSplit]).
	NoBatchSplit bool
}

// BatchSplit is how many parts Forward cuts a batch into on the pure-Go backend. The parts are
// independent subgraphs, which the backend executes concurrently: its MatMul uses every core,
// but its data movement (patch slices, Winograd tiles, transposes, concatenations, pooling) runs
// on one core per op, so while one part moves data the other multiplies or moves its own
// (ResNet-18 inference 1.6× faster on 2 cores). Examples never interact in inference, so the
// logits equal the unsplit ones up to float rounding (tested). In training the parts meet at
// every batch norm, whose statistics are those of the whole batch (nn.BatchNormTraining), and
// at dropout, which draws one mask for the whole batch (net.dropout); so a training step
// computes the unsplit step's values up to float rounding too (tested).
//
// Not split: a single-core process, and on compute's default worker pool anything but
// inference of a chain network. The project's "go" configuration (see fortune/backend) runs an
// unlimited pool; compute v0.1.2's default has 2 slots per core, and a MatMul waits for a free
// slot while holding one, so when every slot is held by a waiting MatMul, none ever gets one
// (seen here: Inception-v3 split in two hung for good on 2 cores with that pool). Inference of a
// split chain network (VGG-11, AlexNet, LeNet-5) keeps at most BatchSplit MatMuls in flight,
// fewer than the 4 slots of 2 cores; the branching networks (ResNet-18, Inception-v3) and every
// backward pass (a gradient for the input and one for the weight per product) can hold more.
const BatchSplit = 2

// batchParts returns how many parts Forward splits x into; chain says the network's layers form
// a single chain (see BatchSplit).
func (mode Mode) batchParts(x *Node, chain bool) int {
	if x == nil || mode.NoBatchSplit || !nn.IsGoBackend(x.Graph()) || runtime.GOMAXPROCS(0) < 2 ||
		(mode.Training || !chain) && !unlimitedPool(x.Graph()) {
		return 1
	}
	return max(1, min(BatchSplit, x.Shape().Dimensions[0]))
}

// unlimitedPool reports whether the graph's pure-Go backend runs with an unlimited worker pool
// (its description reports "parallelism=-1", as the project's "go" configuration sets it).
func unlimitedPool(g *Graph) bool {
	return strings.Contains(g.Backend().Description(), "(parallelism=-1)")
}

// Model is one network.
type Model interface {
	// Name is the registry name: "vgg11", "resnet18", "inception_v3", "alexnet", "lenet5",
	// "lenet5_cifar".
	Name() string
	// Dataset is the dataset it is built for: "cifar10" or "fashion-mnist".
	Dataset() string
	// InputShape is (C, H, W) of one input image, after preprocessing.
	InputShape() [3]int
	// NumClasses is the number of logits.
	NumClasses() int
	// Params lists every state-dict entry in PyTorch's order.
	Params() []ParamSpec
	// Injectable lists, each once, the names of the weights that faults are injected into and that
	// FORTUNE protects: every conv/linear weight (legacy=false), or the weights the authors'
	// layer_lists name (legacy=true; docs/method.md §1.7: ResNet-18 without its three downsample
	// convs). Every conv/linear weight is quantized either way (quanto converts them all,
	// docs/method.md §1.7); a weight left out is quantized but never faulted or protected.
	Injectable(legacy bool) []string
	// Forward builds the network on a batch x of shape (B, C, H, W) float32 and returns the
	// logits (B, NumClasses). params holds one node per Params() entry, keyed by name.
	// In training mode it also returns the updated batch-norm running statistics, keyed by name
	// (nil in inference mode).
	Forward(params map[string]*Node, x *Node, mode Mode) (logits *Node, newStats map[string]*Node)
	// Prepare computes, from one node per Params() entry, the inference-ready weights that
	// Forward takes with Mode.Prepared: every batch norm that follows a convolution folded into
	// it, and every convolution kernel in the form its convolution reads on this backend
	// (nn.PrepareConv: a MatMul matrix, a Winograd-transformed kernel or an unrolled matrix),
	// keyed "<conv>.weight", with its bias folded in or (where nn.PrepareConv keeps it apart)
	// as "<conv>.bias"; linear weights transposed to (I, O)
	// (nn.PrepareLinear), biases passed through. Forward(Prepare(p), x, Mode{Prepared: true}) computes exactly what
	// Forward(p, x, Mode{}) does — the same operations, split into two graphs — but a campaign
	// runs Prepare once per set of weights instead of once per batch.
	Prepare(params map[string]*Node) map[string]*Node
}

// LayerLister is implemented by the models whose authors' layer_list depends on the driver
// (see [LayerList]).
type LayerLister interface {
	LayerList(bits int) []string
}

// LayerList returns the authors' layer_list of m for the driver of the variant with data width
// bits (8: the 8-bit baseline; 3…6: the w-bit drivers), in their order: their injector chose a
// layer uniformly among its entries, so a layer listed twice is chosen twice as often and
// counted twice in n = N·W. Only Inception's lists differ between widths: the 8-bit driver
// lists Mixed_5b/5c.branch5x5_1 twice (93 entries, N = 21,626,432), the 4/5-bit drivers list
// the 91 layers once (N = 21,604,928; docs/method.md §1.7, §10.17). Its layers are those of
// m.Injectable(true), which it returns for a model that is no LayerLister.
func LayerList(m Model, bits int) []string {
	if l, ok := m.(LayerLister); ok {
		return l.LayerList(bits)
	}
	return m.Injectable(true)
}

var registry = map[string]func() Model{}

// Register adds a model constructor to the registry; models call it from init.
func Register(name string, newModel func() Model) { registry[name] = newModel }

// New returns the named model or an error listing the known ones.
func New(name string) (Model, error) {
	f, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown model %q (known: %v)", name, Names())
	}
	return f(), nil
}

// Names lists the registered models, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
