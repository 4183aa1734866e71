package train

import (
	"context"
	"testing"

	"github.com/fortune-go/fortune/data"
	"github.com/fortune-go/fortune/fortune/backend"
	models "github.com/fortune-go/fortune/gomlx_models"
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
