package selfcheck

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/internal/reference"
	"github.com/fortune-go/fortune/fortune/quant"
)

// quantConfigs are the quantizations the quantize check covers: the symmetric int8 baseline,
// and affine w = 2…8 per channel, with the legacy [0, 255] clamp, and per tensor.
func quantConfigs() []quant.Config {
	configs := []quant.Config{{Bits: 8, Scheme: quant.Symmetric8}}
	for w := 2; w <= 8; w++ {
		configs = append(configs, quant.Config{Bits: w}, quant.Config{Bits: w, LegacyClamp: true},
			quant.Config{Bits: w, Granularity: quant.PerTensor})
	}
	return configs
}

// RandomWeights returns a (channels, rest) weight matrix, row-major, of normal values with a
// random scale per channel, where channel 0 is constant, channel 1 all zero and channel 2 full of
// exact rounding ties (channels ≥ 3).
func RandomWeights(r *rand.Rand, channels, rest int) []float32 {
	x := make([]float32, channels*rest)
	for c := range channels {
		scale := float32(math.Exp(r.NormFloat64()))
		for i := range rest {
			v := float32(r.NormFloat64()) * scale
			switch c {
			case 0:
				v = 0.75 // Constant channel.
			case 1:
				v = 0 // Zero channel.
			case 2:
				v = float32(i%16) - 7.5 // Many exact .5 ties.
			}
			x[c*rest+i] = v
		}
	}
	return x
}

// Quantize checks quant.Quantize and quant.Dequantize against the reference, bit for bit (codes,
// scales, zero points, dequantized weights), for every configuration of quantConfigs on random
// weights, and on the channels of HardChannels for each width: channels where a division turned
// into a multiplication by the reciprocal in float32 gives another scale, zero point or code
// (docs/method.md §3.5).
func Quantize() Check {
	return Check{Name: "quantize", Run: func(b compute.Backend) (string, error) {
		r := rand.New(rand.NewPCG(1, 2))
		const channels, rest = 9, 37
		x := RandomWeights(r, channels, rest)
		configs := quantConfigs()
		for _, cfg := range configs {
			if err := CompareQuantize(b, cfg, x, channels, rest); err != nil {
				return "", err
			}
		}
		hard := 0
		for _, cfg := range hardConfigs() {
			chans, err := HardChannels(cfg)
			if err != nil {
				return "", err
			}
			hard += len(chans)
			if err := CompareQuantize(b, cfg, flatten(chans), len(chans), len(chans[0])); err != nil {
				return "", fmt.Errorf("reciprocal-sensitive channels: %w", err)
			}
		}
		return fmt.Sprintf("%d configurations × %d×%d weights, and %d reciprocal-sensitive channels: codes, scales, zero points, dequantized weights",
			len(configs), channels, rest, hard), nil
	}}
}

// hardConfigs are the configurations HardChannels are made for: every width, per channel.
func hardConfigs() []quant.Config {
	configs := []quant.Config{{Bits: 8, Scheme: quant.Symmetric8}}
	for w := 2; w <= 8; w++ {
		configs = append(configs, quant.Config{Bits: w})
	}
	return configs
}

// CompareQuantize quantizes and dequantizes the (channels, rest) weights x on b and compares
// every code, scale, zero point and dequantized weight with the reference.
func CompareQuantize(b compute.Backend, cfg quant.Config, x []float32, channels, rest int) error {
	exec, err := NewExec(b, func(w *Node) []*Node {
		codes, scale, zero := quant.Quantize(w, cfg)
		return []*Node{codes, scale, zero, quant.Dequantize(codes, scale, zero, cfg, w.Shape().Dimensions...)}
	})
	if err != nil {
		return err
	}
	defer exec.Finalize()
	out, err := exec.Call(tensors.FromFlatDataAndDimensions(x, channels, rest))
	if err != nil {
		return err
	}
	codes := flatU8(out[0])
	scales, zeros, deq := flatF32(out[1]), flatF32(out[2]), flatF32(out[3])
	groups, size := channels, rest
	if cfg.Granularity == quant.PerTensor {
		groups, size = 1, channels*rest
	}
	for c := range groups {
		chunk := x[c*size : (c+1)*size]
		q, s, z := refQuantize(chunk, cfg)
		if math.Float32bits(scales[c]) != math.Float32bits(s) || math.Float32bits(zeros[c]) != math.Float32bits(z) {
			return fmt.Errorf("%s channel %d: scale, zero = %g, %g; reference %g, %g", configName(cfg), c, scales[c], zeros[c], s, z)
		}
		for i := range q {
			if codes[c*size+i] != q[i] {
				return fmt.Errorf("%s channel %d [%d] (x=%g): code %d, reference %d", configName(cfg), c, i, chunk[i], codes[c*size+i], q[i])
			}
			want := reference.DequantizeAffine(q[i], s, z)
			if cfg.Scheme == quant.Symmetric8 {
				want = reference.DequantizeSymmetric8(q[i], s)
			}
			if math.Float32bits(deq[c*size+i]) != math.Float32bits(want) {
				return fmt.Errorf("%s channel %d [%d]: dequantized %g, reference %g", configName(cfg), c, i, deq[c*size+i], want)
			}
			if cfg.Scheme == quant.Affine && !cfg.LegacyClamp && int(q[i]) > cfg.Levels() {
				return fmt.Errorf("%s: reference code %d above 2^w−1", configName(cfg), q[i])
			}
		}
	}
	return nil
}

// configName describes a quantization configuration.
func configName(c quant.Config) string {
	if c.Scheme == quant.Symmetric8 {
		return "symmetric int8"
	}
	s := fmt.Sprintf("affine w=%d", c.Bits)
	if c.Granularity == quant.PerTensor {
		s += " per tensor"
	}
	if c.LegacyClamp {
		s += " legacy clamp"
	}
	return s
}

// hardKinds are the kinds of HardChannels, by what a reciprocal rewrite changes first.
var hardKinds = []string{"scale", "zero", "code"}

// hardPerKind is how many channels of each kind HardChannels returns.
const hardPerKind = 4

// hardLen is the length of every channel HardChannels returns.
const hardLen = 16

// HardChannels returns weight channels (each of the same length) on which quantizing with every
// division x/c replaced by the float32 multiplication x·(1/c), as XLA's simplifier rewrites a
// division by a constant, gives another result than the reference (see rewritten): hardPerKind
// channels where the scale differs, as many where the scale agrees but the zero point differs
// (affine only), and as many where both agree but a code differs. They are found by brute force
// from a fixed seed: the range is drawn at random, the minimum is set so that −min/s falls near
// a half-integer, and the values near (k+½)·s, nudged by a few ulps.
func HardChannels(cfg quant.Config) ([][]float32, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(uint64(cfg.Bits), uint64(cfg.Scheme)+17))
	found := map[string][][]float32{}
	need := len(hardKinds) * hardPerKind
	if cfg.Scheme == quant.Symmetric8 {
		need -= hardPerKind // Its zero point is always 0.
	}
	total := 0
	for try := 0; try < 1_000_000 && total < need; try++ {
		ch := hardCandidate(r, cfg)
		kind := rewritten(ch, cfg)
		if kind != "" && len(found[kind]) < hardPerKind {
			found[kind] = append(found[kind], ch)
			total++
		}
	}
	var out [][]float32
	for _, kind := range hardKinds {
		if cfg.Scheme == quant.Symmetric8 && kind == "zero" {
			continue
		}
		if len(found[kind]) < hardPerKind {
			return nil, fmt.Errorf("%s: found %d channels where a reciprocal changes the %s, want %d", configName(cfg), len(found[kind]), kind, hardPerKind)
		}
		out = append(out, found[kind]...)
	}
	return out, nil
}

// hardCandidate draws one candidate channel for HardChannels.
func hardCandidate(r *rand.Rand, cfg quant.Config) []float32 {
	hi := float32(math.Exp(2 * r.NormFloat64()))
	levels := float64(cfg.Levels())
	if cfg.Scheme == quant.Symmetric8 {
		levels = 127
	}
	lo := float32(0)
	switch {
	case cfg.Scheme == quant.Symmetric8:
		lo = -hi * float32(r.Float64()) // max|x| = hi.
	case r.IntN(2) == 0:
		// −lo/s = (j+½) for s = (hi − lo)/levels: lo = −(j+½)·hi/(levels − (j+½)).
		j := float64(r.IntN(int(levels))) + 0.5
		lo = nudge(r, float32(-j*float64(hi)/(levels-j)))
	default:
		lo = -hi * float32(r.Float64())
	}
	var s float32
	if cfg.Scheme == quant.Symmetric8 {
		_, s = reference.QuantizeSymmetric8([]float32{lo, hi})
	} else {
		_, s, _ = reference.QuantizeAffine([]float32{lo, hi}, cfg.Bits, false)
	}
	ch := []float32{lo, hi}
	kmin, kmax := int(math.Ceil(float64(lo/s))), int(math.Floor(float64(hi/s)))-1
	for len(ch) < hardLen {
		x := hi
		if kmax >= kmin {
			k := kmin + r.IntN(kmax-kmin+1)
			x = nudge(r, float32((float64(k)+0.5)*float64(s)))
		}
		ch = append(ch, min(max(x, lo), hi))
	}
	return ch
}

// nudge moves x by up to 4 ulps either way.
func nudge(r *rand.Rand, x float32) float32 {
	for range r.IntN(5) {
		if r.IntN(2) == 0 {
			x = math.Nextafter32(x, float32(math.Inf(1)))
		} else {
			x = math.Nextafter32(x, float32(math.Inf(-1)))
		}
	}
	return x
}

// rewritten quantizes one channel as the reference does, but with every division x/c replaced by
// the float32 multiplication x·(1/c), and says what first differs from the reference: "scale",
// "zero" (the scale agrees), "code" (scale and zero point agree) or "" (nothing).
func rewritten(x []float32, cfg quant.Config) string {
	q, s, z := refQuantize(x, cfg)
	lo, hi := x[0], x[0]
	for _, v := range x {
		lo, hi = min(lo, v), max(hi, v)
	}
	// Explicit float32 conversions round each product (Go may fuse operations otherwise).
	recip := func(c float32) float32 { return float32(1 / c) }
	round := func(v float32) float64 { return math.RoundToEven(float64(v)) }
	var rs, rz float32
	code := func(v float32) uint8 {
		if cfg.Scheme == quant.Symmetric8 {
			return uint8(int8(math.Min(math.Max(round(float32(v*recip(rs))), -128), 127)))
		}
		top := float64(cfg.Levels())
		if cfg.LegacyClamp {
			top = 255
		}
		return uint8(math.Min(math.Max(round(float32(v*recip(rs)))+float64(rz), 0), top))
	}
	if cfg.Scheme == quant.Symmetric8 {
		m := max(hi, -lo)
		if m == 0 {
			m = 127
		}
		rs = float32(m * recip(127))
	} else {
		rng := hi - lo
		if rng == 0 {
			rng = float32(math.Abs(float64(hi)))
			if rng == 0 {
				rng = 1
			}
		}
		rs = float32(rng * recip(float32(cfg.Levels())))
		rz = float32(round(float32(-lo * recip(rs))))
	}
	switch {
	case rs != s:
		return "scale"
	case rz != z:
		return "zero"
	}
	for i, v := range x {
		if code(v) != q[i] {
			return "code"
		}
	}
	return ""
}

// flatten concatenates equal-length channels into one row-major matrix.
func flatten(chans [][]float32) []float32 {
	var out []float32
	for _, c := range chans {
		out = append(out, c...)
	}
	return out
}

// flatF32 copies a float32 tensor's values and frees it.
func flatF32(t *tensors.Tensor) []float32 {
	defer t.FinalizeAll()
	return tensors.MustCopyFlatData[float32](t)
}

// refQuantize quantizes one channel (or tensor) x with the plain-Go reference of cfg's scheme:
// codes, scale and zero point (0 for the symmetric 8-bit scheme).
func refQuantize(x []float32, cfg quant.Config) (q []uint8, s, z float32) {
	if cfg.Scheme == quant.Symmetric8 {
		q, s = reference.QuantizeSymmetric8(x)
		return q, s, 0
	}
	return reference.QuantizeAffine(x, cfg.Bits, cfg.LegacyClamp)
}
