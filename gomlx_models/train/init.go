package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
	"github.com/fortune-go/fortune/internal/enum"
)

// InitScheme chooses how [Train] initializes the weights of a fresh run.
type InitScheme int

const (
	// InitPyTorch is PyTorch's default initialization ([InitParams]).
	InitPyTorch InitScheme = iota
	// InitKaiming draws convolution and linear weights from N(0, 2/fan_in) (He et al.'s
	// initialization for ReLU networks, PyTorch's kaiming_normal_ with mode "fan_in"), biases 0,
	// batch norm as in InitPyTorch. PyTorch's default, uniform with variance 1/(3·fan_in), shrinks
	// the signal at every ReLU layer; Kaiming keeps it. Not a cure for networks without batch
	// norm, measured on AlexNet at 227×227 (64 images, 30 steps): with Kaiming the max pools and
	// dropouts grow the first logits to a loss of 33, and at lr 0.005 the network collapsed to a
	// constant prediction; with PyTorch's default at lr 0.01 the loss fell slowly (2.304 → 2.280).
	InitKaiming
)

// initSchemes names the initialization schemes, in value order. InitScheme has no text
// encoding: weights.Recipe stores it in JSON as a number, and the notebooks' training cache key
// hashes that JSON, so a name there would move every cached training.
var initSchemes = enum.New[InitScheme]("InitScheme", "unknown initialization", "pytorch", "kaiming")

// String returns the scheme's name as the CLI's --init flag spells it.
func (s InitScheme) String() string { return initSchemes.String(s) }

// ParseInitScheme parses "pytorch" or "kaiming".
func ParseInitScheme(name string) (InitScheme, error) { return initSchemes.Parse(name) }

// InitParams returns freshly initialized parameters, as PyTorch initializes nn.Conv2d,
// nn.Linear and nn.BatchNorm2d: weights ~ U(-1/√fan_in, 1/√fan_in) (kaiming_uniform_ with
// a=√5), biases ~ U(-1/√fan_in, 1/√fan_in) with the fan_in of the layer's weight, batch-norm
// weight 1, bias 0, running mean 0, running variance 1, num_batches_tracked 0.
// Values are drawn in the order of specs from a PCG generator seeded with seed.
func InitParams(specs []models.ParamSpec, seed uint64) (*checkpoint.Params, error) {
	return InitParamsWith(specs, seed, InitPyTorch)
}

// InitParamsWith returns freshly initialized parameters in the given scheme; values are drawn
// in the order of specs from a PCG generator seeded with seed.
func InitParamsWith(specs []models.ParamSpec, seed uint64, scheme InitScheme) (*checkpoint.Params, error) {
	if scheme != InitPyTorch && scheme != InitKaiming {
		return nil, fmt.Errorf("init: unknown scheme %s", scheme)
	}
	rng := rand.New(rand.NewPCG(seed, 0x696e6974)) // "init"
	fanIn := map[string]int{}
	for _, s := range specs {
		if s.Kind.IsWeight() {
			if len(s.Shape) < 2 {
				return nil, fmt.Errorf("init: weight %q has shape %v, want rank ≥ 2", s.Name, s.Shape)
			}
			fanIn[strings.TrimSuffix(s.Name, ".weight")] = s.Size() / s.Shape[0]
		}
	}
	p := &checkpoint.Params{}
	for _, s := range specs {
		var t *checkpoint.Tensor
		switch s.Kind {
		case models.ConvWeight, models.LinearWeight, models.Bias:
			layer := strings.TrimSuffix(strings.TrimSuffix(s.Name, ".weight"), ".bias")
			fan, ok := fanIn[layer]
			if !ok || fan == 0 {
				return nil, fmt.Errorf("init: no weight with a non-zero fan-in for bias %q", s.Name)
			}
			t = checkpoint.NewFloat32(s.Name, s.Shape, nil)
			switch {
			case scheme == InitPyTorch:
				bound := 1 / math.Sqrt(float64(fan))
				for i := range t.F32 {
					t.F32[i] = float32(bound * (2*rng.Float64() - 1))
				}
			case s.Kind != models.Bias: // Kaiming: biases stay 0.
				std := math.Sqrt(2 / float64(fan))
				for i := range t.F32 {
					t.F32[i] = float32(std * rng.NormFloat64())
				}
			}
		case models.BNWeight, models.BNVar:
			t = checkpoint.NewFloat32(s.Name, s.Shape, nil)
			for i := range t.F32 {
				t.F32[i] = 1
			}
		case models.BNBias, models.BNMean:
			t = checkpoint.NewFloat32(s.Name, s.Shape, nil)
		case models.BNCount:
			t = checkpoint.NewInt64(s.Name, s.Shape, nil)
		default:
			return nil, fmt.Errorf("init: parameter %q has unknown kind %s", s.Name, s.Kind)
		}
		if err := p.Add(t); err != nil {
			return nil, fmt.Errorf("init: %w", err)
		}
	}
	return p, nil
}

// Trainable reports whether SGD updates a parameter of this kind (weights, biases, batch-norm
// affine parameters); running statistics come from [models.Model.Forward]'s newStats instead.
func Trainable(kind models.ParamKind) bool {
	switch kind {
	case models.ConvWeight, models.LinearWeight, models.Bias, models.BNWeight, models.BNBias:
		return true
	}
	return false
}
