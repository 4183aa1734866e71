package quant_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive

	"github.com/fortune-go/fortune/fortune/internal/backendtest"
	"github.com/fortune-go/fortune/fortune/internal/reference"
	"github.com/fortune-go/fortune/fortune/quant"
	"github.com/fortune-go/fortune/fortune/selfcheck"
)

// TestQuantizeMatchesReference runs the quantize self-check on every backend: codes, scales,
// zero points and dequantized weights equal the reference bit for bit, for every configuration
// on random weights (with a constant, a zero and a ties channel) and on the reciprocal-sensitive
// channels of selfcheck.HardChannels.
func TestQuantizeMatchesReference(t *testing.T) {
	backendtest.Check(t, selfcheck.Quantize().Run)
}

// TestReciprocalSensitiveChannels: for every width, selfcheck.HardChannels finds channels where
// quantizing with x·(1/c) in float32 changes the scale, the zero point (affine) or a code
// compared with x/c, checked here by a plain-Go float32 quantizer of this test's own, and the
// graph quantizes them exactly as the reference on every backend (docs/method.md §3.5).
func TestReciprocalSensitiveChannels(t *testing.T) {
	configs := []quant.Config{{Bits: 8, Scheme: quant.Symmetric8}}
	for w := 2; w <= 8; w++ {
		configs = append(configs, quant.Config{Bits: w})
	}
	backendtest.ForEach(t, func(t *testing.T, b compute.Backend) {
		for _, cfg := range configs {
			chans, err := selfcheck.HardChannels(cfg)
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]int{}
			for i, ch := range chans {
				k := reciprocalDiffers(ch, cfg)
				if k == "" {
					t.Fatalf("%+v channel %d: x·(1/c) quantizes it as x/c does: not reciprocal-sensitive", cfg, i)
				}
				kinds[k]++
			}
			if kinds["scale"] == 0 || kinds["code"] == 0 || (cfg.Scheme == quant.Affine && kinds["zero"] == 0) {
				t.Errorf("%+v: kinds %v, want channels where the scale, the zero point and a code differ", cfg, kinds)
			}
			if err := selfcheck.CompareQuantize(b, cfg, flatten(chans), len(chans), len(chans[0])); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// reciprocalDiffers quantizes x in plain Go float32 arithmetic with x·(1/c) for every x/c and
// says what first differs from the reference: "scale", "zero", "code" or "".
func reciprocalDiffers(x []float32, cfg quant.Config) string {
	lo, hi := slicesMin(x), slicesMax(x)
	inv := func(c float32) float32 { return float32(1 / c) }
	if cfg.Scheme == quant.Symmetric8 {
		q, s := reference.QuantizeSymmetric8(x)
		rs := float32(max(hi, -lo) * inv(127))
		if rs != s {
			return "scale"
		}
		for i, v := range x {
			r := math.RoundToEven(float64(float32(v * inv(rs))))
			if uint8(int8(min(max(r, -128), 127))) != q[i] {
				return "code"
			}
		}
		return ""
	}
	q, s, z := reference.QuantizeAffine(x, cfg.Bits, false)
	rs := float32((hi - lo) * inv(float32(cfg.Levels())))
	if rs != s {
		return "scale"
	}
	if rz := float32(math.RoundToEven(float64(float32(-lo * inv(rs))))); rz != z {
		return "zero"
	}
	for i, v := range x {
		r := math.RoundToEven(float64(float32(v*inv(rs)))) + float64(z)
		if uint8(min(max(r, 0), float64(cfg.Levels()))) != q[i] {
			return "code"
		}
	}
	return ""
}

func slicesMin(x []float32) float32 {
	m := x[0]
	for _, v := range x {
		m = min(m, v)
	}
	return m
}

func slicesMax(x []float32) float32 {
	m := x[0]
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

func flatten(chans [][]float32) []float32 {
	var out []float32
	for _, c := range chans {
		out = append(out, c...)
	}
	return out
}

// TestExactUnderReciprocalRewrite: if a compiler turned Quantize's float64 divisions into
// multiplications by the float64 reciprocal (as XLA's simplifier does for a constant divisor),
// the results would not change (docs/method.md §3.5); the same rewrite done in float32 changes
// them, on the reciprocal-sensitive channels, so the check can tell.
func TestExactUnderReciprocalRewrite(t *testing.T) {
	b := backendtest.Go(t)
	check := func() error {
		r := rand.New(rand.NewPCG(1, 2))
		if err := selfcheck.CompareQuantize(b, quant.Config{Bits: 4}, selfcheck.RandomWeights(r, 9, 37), 9, 37); err != nil {
			return err
		}
		for _, cfg := range []quant.Config{{Bits: 8, Scheme: quant.Symmetric8}, {Bits: 3}, {Bits: 8}} {
			chans, err := selfcheck.HardChannels(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := selfcheck.CompareQuantize(b, cfg, flatten(chans), len(chans), len(chans[0])); err != nil {
				return err
			}
		}
		return nil
	}
	restore := quant.SetDivide(func(a, d *Node) *Node { return Mul(a, Div(OnesLike(d), d)) })
	err := check()
	restore()
	if err != nil {
		t.Errorf("float64 reciprocal: %v", err)
	}
	restore = quant.SetDivide(func(a, d *Node) *Node {
		a32, d32 := ConvertDType(a, dtypes.Float32), ConvertDType(d, dtypes.Float32)
		return ConvertDType(Mul(a32, Div(OnesLike(d32), d32)), dtypes.Float64)
	})
	err = check()
	restore()
	if err == nil {
		t.Error("float32 reciprocal: no difference found; the reciprocal-sensitive channels do not discriminate")
	} else {
		t.Logf("float32 reciprocal, as expected: %v", err)
	}
}

// TestFloat64ReciprocalRoundsLikeDivision checks the fact quant's quotient relies on (docs/method.md
// §3.5), in plain Go: for float32 a and b with a normal float32 quotient, rounding to float32 the
// float64 product a·(1/b) (relative error ≤ 2^−52) gives the correctly rounded a/b, on random
// pairs over the whole exponent range and on the reciprocal-sensitive channels' own pairs.
func TestFloat64ReciprocalRoundsLikeDivision(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	check := func(a, b float32) {
		q := a / b
		if b == 0 || math.IsInf(float64(q), 0) || math.IsNaN(float64(q)) || (q != 0 && math.Abs(float64(q)) < 0x1p-126) {
			return
		}
		if got := float32(float64(a) * (1 / float64(b))); got != q {
			t.Fatalf("%g / %g: float64 reciprocal gives %g, float32 division %g", a, b, got, q)
		}
	}
	for range 2_000_000 {
		check(math.Float32frombits(uint32(r.Uint64())&0x7fffffff), math.Float32frombits(uint32(r.Uint64())&0x7fffffff))
	}
	for w := 2; w <= 8; w++ {
		chans, err := selfcheck.HardChannels(quant.Config{Bits: w})
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range chans {
			_, s, _ := reference.QuantizeAffine(ch, w, false)
			check(slicesMax(ch)-slicesMin(ch), float32(int(1)<<w-1))
			for _, v := range ch {
				check(v, s)
			}
		}
	}
}

// TestConstantChannelExact checks that a constant channel neither divides by zero nor loses
// its value.
func TestConstantChannelExact(t *testing.T) {
	for _, v := range []float32{0.75, -2.5, 0} {
		x := []float32{v, v, v}
		q, s, z := reference.QuantizeAffine(x, 4, false)
		if got := reference.DequantizeAffine(q[0], s, z); got != v {
			t.Errorf("constant %g: dequantized %g (q=%d s=%g z=%g)", v, got, q[0], s, z)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, bad := range []quant.Config{{Bits: 9}, {Bits: 1}, {Bits: 4, Scheme: quant.Symmetric8}, {Bits: 4, Scheme: 7}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
