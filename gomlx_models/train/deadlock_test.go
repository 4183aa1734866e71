package train

import (
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/backend"
	models "github.com/fortune-go/fortune/gomlx_models"
)

// stressDuration is how long TestNoDeadlock keeps the networks running concurrently once all
// have compiled and run once.
const stressDuration = 40 * time.Second

// TestNoDeadlock runs training steps of the branching networks (Inception-v3, ResNet-18) and
// Inception-v3's inference concurrently, for stressDuration once all have compiled, on the
// pure-Go backend in the configuration "go" stands for (backend.GoConfig). A watchdog fails the
// test with every goroutine's stack if a job makes no progress for two minutes.
// $FORTUNE_STRESS_BACKEND overrides the configuration: "go:ops_parallel" (compute's default
// worker pool) deadlocks here. CI runs the test with and without GOEXPERIMENT=simd: both MatMul
// kernels take worker slots.
func TestNoDeadlock(t *testing.T) {
	config := os.Getenv("FORTUNE_STRESS_BACKEND")
	var b compute.Backend
	if config == "" {
		config, b = backend.GoConfig, backend.Go()
	} else {
		var err error
		if b, _, err = backend.New(config); err != nil {
			t.Fatal(err)
		}
	}
	jobs := []struct {
		name  string
		train bool
	}{{"inception_v3", true}, {"resnet18", true}, {"inception_v3", false}}
	var (
		mu       sync.Mutex
		progress = make([]time.Time, len(jobs))
		steps    = make([]int, len(jobs))
		ready    sync.WaitGroup // Every job has run once.
		wg       sync.WaitGroup
		deadline time.Time
		start    = make(chan struct{}) // Closed once deadline is set.
	)
	ready.Add(len(jobs))
	for i, j := range jobs {
		progress[i] = time.Now()
		wg.Go(func() {
			first := true
			err := stressJob(b, j.name, j.train, func() bool {
				mu.Lock()
				progress[i] = time.Now()
				steps[i]++
				mu.Unlock()
				if first {
					first = false
					ready.Done()
					<-start
				}
				return time.Now().Before(deadline)
			})
			if err != nil {
				t.Errorf("%s (train=%v): %v", j.name, j.train, err)
			}
			if first {
				ready.Done()
			}
		})
	}
	go func() {
		ready.Wait()
		mu.Lock()
		deadline = time.Now().Add(stressDuration)
		for i := range progress {
			progress[i] = time.Now()
		}
		mu.Unlock()
		close(start)
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			for i, j := range jobs {
				t.Logf("%s (train=%v): %d runs on %s", j.name, j.train, steps[i], config)
				if steps[i] < 2 {
					t.Errorf("%s (train=%v): %d runs, want ≥ 2", j.name, j.train, steps[i])
				}
			}
			return
		case <-tick.C:
			mu.Lock()
			for i, j := range jobs {
				if time.Since(progress[i]) > 2*time.Minute {
					mu.Unlock()
					_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
					t.Fatalf("%s (train=%v): no progress for 2 minutes on %s: deadlock (goroutines above)", j.name, j.train, config)
				}
			}
			mu.Unlock()
		}
	}
}

// stressJob compiles the network's training step (batch 4) or inference (batch 8) and runs it on
// random data while next, called after each run, returns true.
func stressJob(b compute.Backend, name string, train bool, next func() bool) error {
	m, err := models.New(name)
	if err != nil {
		return err
	}
	init, err := InitParams(m.Params(), 1)
	if err != nil {
		return err
	}
	shape := m.InputShape()
	batch := 8
	if train {
		batch = 4
	}
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float32, batch*shape[0]*shape[1]*shape[2])
	for i := range xs {
		xs[i] = float32(rng.NormFloat64())
	}
	ds := &SliceDataset{X: xs, Y: make([]int32, batch)}
	if !train {
		e, err := NewEvaluator(b, m, batch, models.Mode{}, EvalOptions{})
		if err != nil {
			return err
		}
		defer e.Close()
		params, err := init.ToTensors()
		if err != nil {
			return err
		}
		for {
			if _, _, err := e.Evaluate(params, ds); err != nil {
				return err
			}
			if !next() {
				return nil
			}
		}
	}
	cfg := DefaultConfig()
	cfg.Epochs, cfg.BatchSize, cfg.LR, cfg.Progress, cfg.Init = 1, batch, 1e-3, nil, init
	tr, err := newTrainer(b, m, ds, cfg)
	if err != nil {
		return err
	}
	defer tr.close()
	if err := tr.initState(); err != nil {
		return err
	}
	for {
		x := tensors.FromFlatDataAndDimensions(xs, batch, shape[0], shape[1], shape[2])
		y := tensors.FromFlatDataAndDimensions(make([]int32, batch), batch)
		if _, _, err := tr.sgdStep(x, y, cfg.LR); err != nil {
			return err
		}
		if !next() {
			return nil
		}
	}
}
