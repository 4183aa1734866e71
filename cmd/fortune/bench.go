package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/graphargs"
	"github.com/fortune-go/fortune/fortune/inject"
	"github.com/fortune-go/fortune/fortune/memory"
	"github.com/fortune-go/fortune/fortune/storage"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/train"
)

func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var c common
	c.register(fs)
	list := fs.String("models", "lenet5,alexnet", "networks to measure")
	batch := fs.Int("batch", 100, "inference batch size (AlexNet uses 20 when this is 100)")
	runs := fs.Int("runs", 5, "timed repetitions (median reported)")
	variant := fs.String("variant", "P-4", "storage variant of the fault trial")
	ber := fs.Float64("ber", 1e-4, "bit error rate of the fault trial")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if *batch < 1 || *runs < 1 {
		return fmt.Errorf("--batch and --runs must be ≥ 1")
	}
	if !(*ber > 0 && *ber <= 1) {
		return fmt.Errorf("--ber: %g out of range (0, 1]", *ber)
	}
	scheme, err := storage.Parse(*variant)
	if err != nil {
		return fmt.Errorf("--variant: %w", err)
	}
	b, info, err := c.open()
	if err != nil {
		return err
	}
	fmt.Printf("backend %s\n%-14s %8s %14s %12s %14s %12s\n", info.Config, "model", "batch", "images/s", "weights", "trial (s)", "ns/weight")
	for _, name := range stringList(*list) {
		m, err := newModel(name)
		if err != nil {
			return fmt.Errorf("--models: %w", err)
		}
		bs := *batch
		if name == "alexnet" && bs == 100 {
			bs = 20
		}
		ips, err := benchInference(b, m, bs, *runs)
		if err != nil {
			return err
		}
		trial, words, err := benchTrial(b, m, scheme, *ber, *runs)
		if err != nil {
			return err
		}
		fmt.Printf("%-14s %8d %14.1f %12d %14.3f %12.2f\n", name, bs, ips, words, trial, trial*1e9/float64(words))
	}
	return nil
}

func median(f func() (time.Duration, error), runs int) (float64, error) {
	if _, err := f(); err != nil { // Warm-up and compilation.
		return 0, err
	}
	ds := make([]float64, runs)
	for i := range ds {
		d, err := f()
		if err != nil {
			return 0, err
		}
		ds[i] = d.Seconds()
	}
	sort.Float64s(ds)
	return ds[runs/2], nil
}

// benchInference returns images/s of FP32 inference with random weights and inputs.
func benchInference(b compute.Backend, m models.Model, bs, runs int) (float64, error) {
	p, err := train.InitParams(m.Params(), 1)
	if err != nil {
		return 0, err
	}
	params, err := train.ParamTensors(m, p)
	if err != nil {
		return 0, err
	}
	// As a campaign does: the weights are prepared once, then every batch runs on them.
	prep, err := train.NewPreparer(b, m)
	if err != nil {
		return 0, err
	}
	defer prep.Finalize()
	weights, err := prep.Prepare(params)
	if err != nil {
		return 0, err
	}
	names := prep.Names()
	layout := new(graphargs.Layout).Group("weights", len(names)).One("x")
	exec, err := NewExec(b, func(nodes []*Node) *Node {
		in := graphargs.Read(layout, nodes)
		logits, _ := m.Forward(train.PreparedNodes(names, in.Group("weights")), in.One("x"), models.Mode{Prepared: true})
		return ArgMax(logits, -1, dtypes.Int32)
	})
	if err != nil {
		return 0, err
	}
	defer exec.Finalize()
	shape := m.InputShape()
	x := make([]float32, bs*shape[0]*shape[1]*shape[2])
	r := rand.New(rand.NewPCG(1, 2))
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	xt := tensors.FromFlatDataAndDimensions(x, bs, shape[0], shape[1], shape[2])
	args := graphargs.Build[*tensors.Tensor](layout).SetGroup("weights", weights).Set("x", xt).Any()
	sec, err := median(func() (time.Duration, error) {
		t0 := time.Now()
		out, err := exec.Call(args...)
		if err != nil {
			return 0, err
		}
		out[0].FinalizeAll()
		return time.Since(t0), nil
	}, runs)
	if err != nil {
		return 0, fmt.Errorf("bench %s inference: %w", m.Name(), err)
	}
	return float64(bs) / sec, nil
}

// benchTrial returns the median seconds of one fault trial (inject, decode, dequantize) over the
// model's injectable weights, and their number.
func benchTrial(b compute.Backend, m models.Model, scheme storage.Scheme, ber float64, runs int) (float64, int, error) {
	p, err := train.InitParams(m.Params(), 1)
	if err != nil {
		return 0, 0, err
	}
	var names []string
	var shapes [][]int
	var ws []*tensors.Tensor
	for _, name := range m.Injectable(false) {
		t := p.Get(name)
		tt, err := t.ToTensor()
		if err != nil {
			return 0, 0, err
		}
		names, shapes, ws = append(names, name), append(shapes, t.Shape), append(ws, tt)
	}
	layers := memory.Layout(names, shapes)
	mem, err := memory.Build(b, scheme, layers, ws, memory.Options{})
	if err != nil {
		return 0, 0, err
	}
	f, _ := inject.Count(ber, mem.StoredBits())
	plan := mem.Plan(inject.Distinct, inject.SignXOR, inject.CapacityFor(inject.Distinct, f, mem.StoredBits()))
	exec, err := NewExec(b, mem.TrialGraph(plan))
	if err != nil {
		return 0, 0, err
	}
	defer exec.Finalize()
	seed := uint64(0)
	sec, err := median(func() (time.Duration, error) {
		seed++
		args := mem.TrialArgs(seed, ber)
		t0 := time.Now()
		out, err := exec.Call(args...)
		if err != nil {
			return 0, err
		}
		for _, o := range out {
			o.FinalizeAll()
		}
		return time.Since(t0), nil
	}, runs)
	if err != nil {
		return 0, 0, fmt.Errorf("bench %s trial: %w", m.Name(), err)
	}
	return sec, mem.N(), nil
}
