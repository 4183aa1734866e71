package train

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/fortune-go/fortune/data"
	"github.com/fortune-go/fortune/fortune/backend"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
)

// BenchmarkTrainLeNet5FashionMNIST trains LeNet-5 from scratch on the full Fashion-MNIST
// training set with the recipe of 'fortune reproduce --profile quick' (4 epochs, batch 128,
// LR 0.05 cosine, SGD momentum 0.9, weight decay 5e-4) and reports the test accuracy and the
// wall time of the whole run. Goal: ≥ 88% within 5 minutes on a 2-core CPU (pure-Go backend).
//
//	GOEXPERIMENT=simd go test -run XXX -bench TrainLeNet5 -benchtime 1x ./gomlx_models/train
func BenchmarkTrainLeNet5FashionMNIST(b *testing.B) {
	be, info, err := backend.New("")
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("backend %s", info)
	m, _ := models.New("lenet5")
	ctx := context.Background()
	tr, err := data.ForModel(ctx, m.Dataset(), m.InputShape(), data.Train, nil)
	if err != nil {
		b.Skipf("Fashion-MNIST: %v", err)
	}
	te, err := data.ForModel(ctx, m.Dataset(), m.InputShape(), data.Test, nil)
	if err != nil {
		b.Skipf("Fashion-MNIST: %v", err)
	}
	for range b.N {
		cfg := DefaultConfig()
		cfg.Epochs, cfg.BatchSize, cfg.LR, cfg.Seed = 4, 128, 0.05, 1
		cfg.Eval, cfg.Progress = te, nil
		res, err := Train(ctx, be, m, tr, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.TestAccuracy, "test-acc-%")
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
}

// benchTrainStep measures SGD training steps per second on random data, as Train runs them
// (forward in training mode, backward, momentum and weight decay in one compiled graph; the
// batch is fixed so that data loading is not timed). Compilation and a warm-up step are
// excluded. Compare with testdata/bench_torch.py --train (same networks, batch sizes, optimizer).
func benchTrainStep(b *testing.B, be compute.Backend, name string, batch int) {
	m, err := models.New(name)
	if err != nil {
		b.Fatal(err)
	}
	c, h, w := m.InputShape()[0], m.InputShape()[1], m.InputShape()[2]
	r := rand.New(rand.NewPCG(1, 2))
	ds := &SliceDataset{X: make([]float32, batch*c*h*w), Y: make([]int32, batch)}
	for i := range ds.X {
		ds.X[i] = float32(r.NormFloat64())
	}
	for i := range ds.Y {
		ds.Y[i] = int32(r.IntN(m.NumClasses()))
	}
	cfg := DefaultConfig()
	cfg.Epochs, cfg.BatchSize, cfg.LR, cfg.Progress = 1, batch, 0.01, nil
	t, err := newTrainer(be, m, ds, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer t.close()
	if err := t.initState(); err != nil {
		b.Fatal(err)
	}
	x := tensors.FromFlatDataAndDimensions(ds.X, batch, c, h, w)
	y := tensors.FromFlatDataAndDimensions(ds.Y, batch)
	defer finalize(x, y)
	if _, _, err := t.sgdStep(x, y, cfg.LR); err != nil { // Compiles and warms up.
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	for b.Loop() {
		if _, _, err := t.sgdStep(x, y, cfg.LR); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
	// CPU seconds of the whole process per step: less sensitive than wall time to other load.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkTrainStep is training images/s on the pure-Go backend, batch 128 (AlexNet 32), and
// at the batch sizes a recipe could choose instead (VGG-11 and ResNet-18 64, Inception-v3 32, AlexNet 64).
// Build with GOEXPERIMENT=simd for the backend's AVX2/AVX-512 MatMul; scripts/bench-vs-pytorch.py
// --train runs it beside PyTorch:
//
//	GOEXPERIMENT=simd go test ./gomlx_models/train -run '^$' -bench 'TrainStep/vgg11/' -benchtime 3x
func BenchmarkTrainStep(b *testing.B) {
	be := backend.Go()
	for _, tc := range []struct {
		name  string
		batch int
	}{
		{"lenet5", 128}, {"lenet5_cifar", 128}, {"vgg11", 128}, {"vgg11", 64}, {"resnet18", 128}, {"resnet18", 64},
		{"inception_v3", 128}, {"inception_v3", 32}, {"alexnet", 32}, {"alexnet", 64},
	} {
		b.Run(fmt.Sprintf("%s/batch%d", tc.name, tc.batch), func(b *testing.B) { benchTrainStep(b, be, tc.name, tc.batch) })
	}
}

// cpuTime is the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
