package models

import (
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/gomlx_models/nn"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/support/exceptions"
)

// buildWalks builds, without running them, every walk of m on a batch of shape x: Params,
// inference, training, inference with the native convolution, Prepare and inference on its
// output (Mode.Prepared). net.layer checks every layer with weights on the way; the first
// failure is returned.
func buildWalks(m Model, x ...int) (err error) {
	g := NewGraph(backend.Go(), m.Name())
	err = exceptions.TryCatch[error](func() {
		params := map[string]*Node{}
		for _, s := range m.Params() {
			dtype := dtypes.Float32
			if s.Kind == BNCount {
				dtype = dtypes.Int64
			}
			params[s.Name] = Parameter(g, s.Name, shapes.Make(dtype, s.Shape...))
		}
		in := Parameter(g, "x", shapes.Make(dtypes.Float32, x...))
		for _, mode := range []Mode{{}, {Training: true, DropoutSeed: Const(g, uint64(1))}, {UseNativeConv: true}} {
			m.Forward(params, in, mode)
		}
		m.Forward(m.Prepare(params), in, Mode{Prepared: true})
	})
	return err
}

// TestLayerKinds checks that every layer kind the networks use is consistent: in every walk of
// every network, each step of each layer reads exactly the weights its list declares, and
// prepare returns exactly the weights forwardPrepared reads, with their shapes (see net.layer).
// It also checks that each kind of mistake is caught, with a message naming the layer and the
// weight, on a broken copy of linearLayer.
func TestLayerKinds(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			m := mustNew(t, name)
			in := m.InputShape()
			if err := buildWalks(m, 2, in[0], in[1], in[2]); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}
	for _, tc := range []struct{ mistake, want string }{
		{"none", ""},
		{"forward reads an unlisted weight", `models.brokenLinear fc reads "fc.scale", which params does not list`},
		{"params lists an unused weight", `models.brokenLinear fc: params lists "fc.scale", which forward does not read`},
		{"prepare misses a weight", `models.brokenLinear fc: prepare does not return "fc.bias", which preparedParams lists`},
		{"prepare returns an unlisted weight", `models.brokenLinear fc: prepare returns "fc.scale", which preparedParams does not list`},
		{"prepare returns a wrong shape", `models.brokenLinear fc: prepare returns "fc.weight" with shape [3 4], but preparedParams lists [4 3]`},
		{"prepare ignores a weight", `models.brokenLinear fc: params lists "fc.bias", which prepare does not read`},
		{"forwardPrepared ignores a weight", `models.brokenLinear fc: preparedParams lists "fc.bias", which forwardPrepared does not read`},
	} {
		t.Run(strings.ReplaceAll(tc.mistake, " ", "_"), func(t *testing.T) {
			l := brokenLinear{linearLayer{name: "fc", in: 4, out: 3}, tc.mistake}
			a := &arch{name: "broken", build: func(m *net, x act) act { return m.layer(x, l) }}
			err := buildWalks(a, 2, 4)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("linearLayer itself: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("%s: err = %v, want %q", tc.mistake, err, tc.want)
			}
		})
	}
}

// brokenLinear is linearLayer with one mistake, for TestLayerKinds.
type brokenLinear struct {
	linearLayer
	mistake string
}

func (l brokenLinear) params() []ParamSpec {
	specs := l.linearLayer.params()
	if l.mistake == "params lists an unused weight" {
		specs = append(specs, ParamSpec{Name: "fc.scale", Shape: []int{3}, Kind: Bias})
	}
	return specs
}

func (l brokenLinear) forward(m *net, x act, p entries) act {
	if l.mistake == "forward reads an unlisted weight" {
		p.get("fc.scale")
	}
	return l.linearLayer.forward(m, x, p)
}

func (l brokenLinear) prepare(p entries) map[string]*Node {
	if l.mistake == "prepare ignores a weight" {
		w := p.get("fc.weight")
		return map[string]*Node{"fc.weight": nn.PrepareLinear(w), "fc.bias": Zeros(w.Graph(), shapes.Make(dtypes.Float32, 3))}
	}
	out := l.linearLayer.prepare(p)
	switch l.mistake {
	case "prepare misses a weight":
		delete(out, "fc.bias")
	case "prepare returns an unlisted weight":
		out["fc.scale"] = out["fc.bias"]
	case "prepare returns a wrong shape":
		out["fc.weight"] = p.get("fc.weight")
	}
	return out
}

func (l brokenLinear) forwardPrepared(x act, w entries) act {
	if l.mistake == "forwardPrepared ignores a weight" {
		return act{nn.LinearPrepared(x[0], w.get("fc.weight"), nil, l.relu)}
	}
	return l.linearLayer.forwardPrepared(x, w)
}
