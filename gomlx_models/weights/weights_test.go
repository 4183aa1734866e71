package weights

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fortune-go/fortune/data"
	"github.com/fortune-go/fortune/fortune/backend"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
	"github.com/fortune-go/fortune/gomlx_models/train"
	"github.com/fortune-go/fortune/internal/testenv"
)

// TestFind: the rule uses a plain MODEL.safetensors in --weights-dir and a
// finished training checkpoint as they are (it used them only beside a ".done" marker, and
// otherwise tried to resume training into them), and recognizes an unfinished training
// checkpoint of ours as one to resume.
func TestFindOrTrainUsesWeights(t *testing.T) {
	m, _ := models.New("lenet5")
	p, err := checkpoint.NewParams(checkpoint.NewFloat32("w", []int{2}, []float32{1, 2}))
	if err != nil {
		t.Fatal(err)
	}
	progressMeta := func(step int, extra map[string]string) map[string]string {
		meta := map[string]string{"step": strconv.Itoa(step), "train.epochs": "4", "train.batch_size": "128", "train.examples": "60000"}
		for k, v := range extra {
			meta[k] = v
		}
		return meta
	}
	for _, tc := range []struct {
		name     string
		meta     map[string]string
		use      bool
		step     int
		planned  int
		training bool
	}{
		{name: "plain weights", meta: nil, use: true},
		{name: "plain weights with other metadata", meta: map[string]string{"format": "pt"}, use: true},
		{name: "finished training", meta: progressMeta(4*468, nil), use: true, step: 4 * 468, planned: 4 * 468, training: true},
		{name: "finished budgeted training", meta: progressMeta(1000, map[string]string{"planned_steps": "1000", "train.budget": "1h0m0s"}),
			use: true, step: 1000, planned: 1000, training: true},
		{name: "unfinished training", meta: progressMeta(468, nil), step: 468, planned: 4 * 468, training: true},
		{name: "unfinished budgeted training", meta: progressMeta(500, map[string]string{"planned_steps": "1000"}), step: 500, planned: 1000, training: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := Path(dir, "lenet5")
			if err := checkpoint.SaveSafetensors(path, p, tc.meta); err != nil {
				t.Fatal(err)
			}
			pr, err := train.ReadStatus(path)
			if err != nil {
				t.Fatal(err)
			}
			if pr.Training != tc.training || (tc.training && (!pr.Known || pr.Step != tc.step || pr.Planned != tc.planned)) {
				t.Errorf("progress %+v, want training %t at step %d of %d", pr, tc.training, tc.step, tc.planned)
			}
			if !tc.use {
				if got, mustTrain, err := Find(dir, "lenet5", nil); err != nil || got != path || !mustTrain {
					t.Errorf("Find = %q, %t, %v; want %s to resume", got, mustTrain, err, path)
				}
				return
			}
			if got, mustTrain, err := Find(dir, "lenet5", nil); err != nil || got != path || mustTrain {
				t.Errorf("Find = %q, %t, %v; want %s used as it is", got, mustTrain, err, path)
			}
			// No backend and no data: using the file must not need them.
			if got, res, err := FindOrTrain(context.Background(), nil, m, dir, DefaultRecipe(), Options{}); err != nil || got != path || res != nil {
				t.Errorf("FindOrTrain = %q, %v; want %s used as it is", got, err, path)
			}
		})
	}
	// An unfinished checkpoint beside a PyTorch file: the PyTorch weights are used.
	dir := t.TempDir()
	if err := checkpoint.SaveSafetensors(Path(dir, "lenet5"), p, progressMeta(1, nil)); err != nil {
		t.Fatal(err)
	}
	pt := filepath.Join(dir, "lenet5.pt")
	if err := os.WriteFile(pt, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, mustTrain, err := Find(dir, "lenet5", nil); err != nil || got != pt || mustTrain {
		t.Errorf("Find = %q, %t, %v; want %s", got, mustTrain, err, pt)
	}
	// A file that is not safetensors is an error, not a reason to train over it.
	if err := os.WriteFile(Path(dir, "lenet5"), []byte("garbage!garbage!"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Find(dir, "lenet5", nil); err == nil {
		t.Error("Find with a garbage MODEL.safetensors: want an error")
	}
}

// TestRecipeConfig: zero fields take the documented defaults, the CIFAR-10 networks get crops
// and flips, and the budgeted recipe adds warm-up and label smoothing only where none is set.
func TestRecipeConfig(t *testing.T) {
	lenet, _ := models.New("lenet5")
	vgg, _ := models.New("vgg11")
	c := Recipe{}.Config(lenet)
	if c.Epochs != 4 || c.BatchSize != 128 || c.LR != 0.05 || c.WeightDecay != 0 || c.Augment.Flip || c.Progress != nil {
		t.Errorf("zero recipe on lenet5: epochs %d batch %d lr %g wd %g augment %+v", c.Epochs, c.BatchSize, c.LR, c.WeightDecay, c.Augment)
	}
	c = DefaultRecipe().Config(vgg)
	if c.Epochs != 30 || c.WeightDecay != 5e-4 || !c.Augment.Flip || c.Augment.Pad != 4 || len(c.Augment.PadValue) != 3 {
		t.Errorf("default recipe on vgg11: epochs %d wd %g augment %+v", c.Epochs, c.WeightDecay, c.Augment)
	}
	// The padding is the normalized black: (0 − mean)/std per channel, negative.
	for _, v := range c.Augment.PadValue {
		if !(v < 0) {
			t.Errorf("pad value %g, want the normalized black (< 0)", v)
		}
	}
	b := DefaultRecipe().Budgeted(time.Hour)
	if b.Budget != time.Hour || b.Warmup != BudgetWarmup || b.LabelSmoothing != BudgetSmoothing {
		t.Errorf("budgeted: %+v", b)
	}
	if b := (Recipe{Warmup: 0.3}).Budgeted(time.Minute); b.Warmup != 0.3 || b.LabelSmoothing != BudgetSmoothing {
		t.Errorf("budgeted with a warm-up given: %+v", b)
	}
	for _, bad := range []Recipe{{Epochs: -1}, {BatchSize: -2}, {LR: -1}, {WeightDecay: -1}, {Warmup: 1}, {LabelSmoothing: 1.5},
		{Budget: -time.Second}, {TrainImages: -1}, {EvalImages: -1}} {
		if err := bad.Validate(); err == nil || !strings.HasPrefix(err.Error(), "--") {
			t.Errorf("Validate(%+v) = %v, want an error naming the flag", bad, err)
		}
	}
	if err := DefaultRecipe().Validate(); err != nil {
		t.Errorf("default recipe: %v", err)
	}
}

// TestRecipeFor: every registered network gets a valid recipe; the networks with their own
// learning rate or batch size are registered ones (a misspelt name would silently train with
// the defaults), and only those two fields differ from DefaultRecipe.
func TestRecipeFor(t *testing.T) {
	names := models.Names()
	for name := range networkRecipes {
		if !slices.Contains(names, name) {
			t.Errorf("networkRecipes names %q, not a registered network (%v)", name, names)
		}
	}
	for _, name := range names {
		r := RecipeFor(name)
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if r.LR <= 0 || r.BatchSize <= 0 {
			t.Errorf("%s: lr %g batch %d, want both set", name, r.LR, r.BatchSize)
		}
		d := DefaultRecipe()
		d.LR, d.BatchSize = r.LR, r.BatchSize
		if r != d {
			t.Errorf("%s: %+v differs from the default recipe beyond lr and batch", name, r)
		}
		if _, own := networkRecipes[name]; !own && r != DefaultRecipe() {
			t.Errorf("%s has no recipe of its own but gets %+v", name, r)
		}
	}
	if r := RecipeFor("alexnet"); r.BatchSize != 32 || r.LR != 0.05 {
		t.Errorf("alexnet: batch %d lr %g, want 32 and 0.05", r.BatchSize, r.LR)
	}
}

// TestFindOrTrainTrainsOnce: without weights the network is trained into DIR/MODEL.safetensors
// (a finished checkpoint, under the recipe given), and the next call uses that file as it is.
func TestFindOrTrainTrainsOnce(t *testing.T) {
	m, _ := models.New("lenet5")
	if _, err := data.ForModel(context.Background(), m.Dataset(), m.InputShape(), data.Test, nil); err != nil {
		testenv.SkipOrFail(t, "Fashion-MNIST: %v", err)
	}
	b, _ := backend.Must("go")
	defer b.Finalize()
	dir := t.TempDir()
	r := Recipe{Epochs: 1, BatchSize: 4, LR: 0.01, Seed: 3, TrainImages: 8, EvalImages: 8}
	var log strings.Builder
	path, res, err := FindOrTrain(context.Background(), b, m, dir, r, Options{Log: &log})
	if err != nil || path != Path(dir, "lenet5") || res == nil {
		t.Fatalf("FindOrTrain = %q, %v, %v", path, res, err)
	}
	if !strings.Contains(log.String(), "training from scratch") || !strings.Contains(log.String(), "training lenet5 on 8 images") {
		t.Errorf("log %q: want the decision and the training line", log.String())
	}
	st, err := train.ReadStatus(path)
	if err != nil || !st.Finished() || st.Step != 2 {
		t.Fatalf("status %+v, %v: want finished at step 2", st, err)
	}
	meta, err := checkpoint.ReadSafetensorsMetadata(path)
	if err != nil || meta["train.batch_size"] != "4" || meta["train.seed"] != "3" {
		t.Errorf("metadata %v, %v: want the recipe's batch size and seed", meta, err)
	}
	info, _ := os.Stat(path)
	log.Reset()
	if again, _, err := FindOrTrain(context.Background(), b, m, dir, r, Options{Log: &log}); err != nil || again != path || log.Len() != 0 {
		t.Errorf("second FindOrTrain = %q, %v, log %q: want the file used as it is", again, err, log.String())
	}
	if info2, _ := os.Stat(path); !info2.ModTime().Equal(info.ModTime()) {
		t.Error("second FindOrTrain rewrote the weights")
	}
}

// TestRecipeInitJSON: Recipe keeps the initialization a number in JSON (train.InitScheme has no
// text encoding on purpose): the notebooks' training cache key hashes this JSON.
func TestRecipeInitJSON(t *testing.T) {
	b, err := json.Marshal(Recipe{Init: train.InitKaiming})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"init":1,`) {
		t.Errorf("Recipe JSON %s, want \"init\":1", b)
	}
}
