package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/internal/backendtest"
	"github.com/fortune-go/fortune/fortune/internal/reference"
)

// randomWeights returns a (C, I, 3, 3)-like tensor as (C, rest) data with a constant channel,
// a zero channel and values on exact rounding ties.
func randomWeights(r *rand.Rand, channels, rest int) []float32 {
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

func TestQuantizeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const channels, rest = 9, 37
	x := randomWeights(r, channels, rest)
	configs := []Config{{Bits: 8, Scheme: Symmetric8}}
	for w := 2; w <= 8; w++ {
		configs = append(configs, Config{Bits: w}, Config{Bits: w, LegacyClamp: true}, Config{Bits: w, Granularity: PerTensor})
	}
	backendtest.ForEach(t, func(t *testing.T, b compute.Backend) {
		for _, cfg := range configs {
			exec, err := NewExec(b, func(w *Node) []*Node {
				codes, scale, zero := Quantize(w, cfg)
				return []*Node{codes, scale, zero, Dequantize(codes, scale, zero, cfg, w.Shape().Dimensions...)}
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Call(tensors.FromFlatDataAndDimensions(x, channels, rest/1))
			if err != nil {
				t.Fatal(err)
			}
			codes := tensors.MustCopyFlatData[uint8](out[0])
			scales := tensors.MustCopyFlatData[float32](out[1])
			zeros := tensors.MustCopyFlatData[float32](out[2])
			deq := tensors.MustCopyFlatData[float32](out[3])
			groups, size := channels, rest
			if cfg.Granularity == PerTensor {
				groups, size = 1, channels*rest
			}
			for c := range groups {
				chunk := x[c*size : (c+1)*size]
				var q []uint8
				var s, z float32
				if cfg.Scheme == Symmetric8 {
					q, s = reference.QuantizeSymmetric8(chunk)
				} else {
					q, s, z = reference.QuantizeAffine(chunk, cfg.Bits, cfg.LegacyClamp)
				}
				if scales[c] != s || zeros[c] != z {
					t.Fatalf("%+v channel %d: scale, zero = %g, %g; want %g, %g", cfg, c, scales[c], zeros[c], s, z)
				}
				for i := range q {
					if codes[c*size+i] != q[i] {
						t.Fatalf("%+v channel %d [%d] (x=%g): code %d, want %d", cfg, c, i, chunk[i], codes[c*size+i], q[i])
					}
					want := reference.DequantizeAffine(q[i], s, z)
					if cfg.Scheme == Symmetric8 {
						want = reference.DequantizeSymmetric8(q[i], s)
					}
					if deq[c*size+i] != want {
						t.Fatalf("%+v channel %d [%d]: dequantized %g, want %g", cfg, c, i, deq[c*size+i], want)
					}
				}
				if !cfg.LegacyClamp && cfg.Scheme == Affine {
					for _, v := range q {
						if int(v) > cfg.Levels() {
							t.Fatalf("%+v: code %d above 2^w-1", cfg, v)
						}
					}
				}
			}
		}
	})
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
	for _, bad := range []Config{{Bits: 9}, {Bits: 1}, {Bits: 4, Scheme: Symmetric8}, {Bits: 4, Scheme: 7}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
