package train

import (
	"errors"
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/splitmix"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
)

// ParamNodes pairs graph nodes with a model's parameter list, for [models.Model.Forward]: nodes[i]
// is the node of specs[i].
func ParamNodes(specs []models.ParamSpec, nodes []*Node) map[string]*Node {
	m := make(map[string]*Node, len(specs))
	for i, s := range specs {
		m[s.Name] = nodes[i]
	}
	return m
}

// ParamTensors conforms p to the model (see [checkpoint.Params.Conform]) and returns one tensor
// per parameter in the model's order: the params argument of [Evaluator.Evaluate], or the
// leading arguments of a caller's own graph.Exec (see the package documentation).
func ParamTensors(model models.Model, p *checkpoint.Params) ([]*tensors.Tensor, error) {
	c, err := p.Conform(model.Params(), "")
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", model.Name(), err)
	}
	ts, err := c.ToTensors()
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", model.Name(), err)
	}
	return ts, nil
}

// RewriteFn runs inside an evaluation graph, before the forward pass: it may replace entries of
// params (e.g. a weight by its faulty, dequantized version) by nodes computed from them and from
// extra, the extra graph inputs passed to [Evaluator.Evaluate], in order.
type RewriteFn func(params map[string]*Node, extra []*Node)

// EvalOptions configures an [Evaluator].
type EvalOptions struct {
	// Rewrite, if set, edits the parameters inside the graph (see [RewriteFn]).
	Rewrite RewriteFn
	// DropoutSeed seeds dropout when the mode keeps it active at evaluation (Mode.LegacyDropout):
	// batch i uses the seed splitmix.Stream(DropoutSeed, i).
	DropoutSeed uint64
}

// Evaluator computes a model's accuracy over datasets with one compiled graph (per number of
// extra inputs and their shapes), for many parameter sets.
type Evaluator struct {
	backend   compute.Backend
	model     models.Model
	specs     []models.ParamSpec
	batchSize int
	mode      models.Mode
	opts      EvalOptions
	exec      *Exec
	shape     [3]int
}

// NewEvaluator prepares the evaluation of model in inference mode (mode.Training must be false;
// mode.DropoutSeed must be nil: the evaluator feeds the seed itself when mode.LegacyDropout is
// set).
func NewEvaluator(backend compute.Backend, model models.Model, batchSize int, mode models.Mode, opts EvalOptions) (*Evaluator, error) {
	if batchSize <= 0 {
		return nil, fmt.Errorf("evaluate %s: batch size %d", model.Name(), batchSize)
	}
	if mode.Training {
		return nil, fmt.Errorf("evaluate %s: Mode.Training is set; evaluation runs in inference mode", model.Name())
	}
	if mode.DropoutSeed != nil {
		return nil, fmt.Errorf("evaluate %s: Mode.DropoutSeed must be nil (the evaluator supplies the seed)", model.Name())
	}
	e := &Evaluator{backend: backend, model: model, specs: model.Params(), batchSize: batchSize,
		mode: mode, opts: opts, shape: model.InputShape()}
	exec, err := NewExec(backend, e.graph)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", model.Name(), err)
	}
	e.exec = exec.WithName("eval_" + model.Name())
	return e, nil
}

// graph is the evaluation graph: inputs are the parameters (model order), the batch x, the
// dropout seed when dropout is active, then the extra inputs; the output is the predicted class per
// example (int32).
func (e *Evaluator) graph(g *Graph, in []*Node) []*Node {
	n := len(e.specs)
	params := ParamNodes(e.specs, in[:n])
	x := in[n]
	rest := in[n+1:]
	mode := e.mode
	if mode.LegacyDropout {
		mode.DropoutSeed = rest[0]
		rest = rest[1:]
	}
	if e.opts.Rewrite != nil {
		e.opts.Rewrite(params, rest)
	}
	logits, _ := e.model.Forward(params, x, mode)
	return []*Node{ArgMax(logits, -1, dtypes.Int32)}
}

// Evaluate returns how many examples of ds the model classifies correctly with the given
// parameters (one tensor per model parameter, in the model's order: see [ParamTensors]) and
// extra graph inputs (passed to the RewriteFn). The last partial batch is padded with zeros and
// the padding is not counted. The parameter tensors are reused as they are (on the device after
// the first batch), so passing the same tensors to many calls transfers them once.
func (e *Evaluator) Evaluate(params []*tensors.Tensor, ds Dataset, extra ...*tensors.Tensor) (correct, total int, err error) {
	name := e.model.Name()
	if len(params) != len(e.specs) {
		return 0, 0, fmt.Errorf("evaluate %s: %d parameter tensors, want %d", name, len(params), len(e.specs))
	}
	c, h, w := e.shape[0], e.shape[1], e.shape[2]
	size := c * h * w
	bs := e.batchSize
	xs := make([]float32, bs*size)
	ys := make([]int32, bs)
	indices := make([]int, 0, bs)
	args := make([]any, 0, len(params)+2+len(extra))
	for start, batch := 0, 0; start < ds.Len(); start, batch = start+bs, batch+1 {
		n := min(bs, ds.Len()-start)
		indices = indices[:0]
		for i := range n {
			indices = append(indices, start+i)
		}
		if err := ds.Batch(indices, xs[:n*size], ys[:n]); err != nil {
			return 0, 0, fmt.Errorf("evaluate %s: batch at %d: %w", name, start, err)
		}
		clear(xs[n*size:])
		xt := tensors.FromFlatDataAndDimensions(xs, bs, c, h, w)
		args = args[:0]
		for _, p := range params {
			args = append(args, p)
		}
		args = append(args, xt)
		var seed *tensors.Tensor
		if e.mode.LegacyDropout {
			seed = tensors.FromScalar(splitmix.Stream(e.opts.DropoutSeed, uint64(batch)))
			args = append(args, seed)
		}
		for _, t := range extra {
			args = append(args, t)
		}
		out, err := e.exec.Call(args...)
		finalize(xt, seed)
		if err != nil {
			return 0, 0, fmt.Errorf("evaluate %s: batch at %d: %w", name, start, err)
		}
		pred, err := tensors.CopyFlatData[int32](out[0])
		finalize(out...)
		if err != nil {
			return 0, 0, fmt.Errorf("evaluate %s: reading predictions: %w", name, err)
		}
		for i := range n {
			if pred[i] == ys[i] {
				correct++
			}
		}
		total += n
	}
	return correct, total, nil
}

// Close releases the compiled graphs.
func (e *Evaluator) Close() { e.exec.Finalize() }

// Evaluate returns the number of examples of ds that model classifies correctly with params (any
// order; conformed to the model, see [checkpoint.Params.Conform]), in batches of batchSize, on
// backend. mode must be an inference mode (see [NewEvaluator]); with mode.LegacyDropout the
// dropout masks of batch i are seeded with splitmix.Stream(42, i) (42: the authors' seed).
func Evaluate(backend compute.Backend, model models.Model, params *checkpoint.Params, ds Dataset, batchSize int, mode models.Mode) (correct, total int, err error) {
	ts, err := ParamTensors(model, params)
	if err != nil {
		return 0, 0, fmt.Errorf("evaluate: %w", err)
	}
	defer finalize(ts...)
	e, err := NewEvaluator(backend, model, batchSize, mode, EvalOptions{DropoutSeed: 42})
	if err != nil {
		return 0, 0, err
	}
	defer e.Close()
	return e.Evaluate(ts, ds)
}

// finalize frees tensors now rather than at garbage collection (nil entries are skipped).
func finalize(ts ...*tensors.Tensor) {
	for _, t := range ts {
		if t != nil {
			_ = t.FinalizeAll()
		}
	}
}

// errStopped is returned internally when training stops on Config.StopAfterSteps.
var errStopped = errors.New("stopped")
