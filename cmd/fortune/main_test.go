package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fortune-go/fortune/fortune/campaign"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
	"github.com/fortune-go/fortune/gomlx_models/train"
	"github.com/fortune-go/fortune/internal/testenv"
)

// TestMain lets the tests run this binary as the fortune command (FORTUNE_AS_MAIN=1).
func TestMain(m *testing.M) {
	if os.Getenv("FORTUNE_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestFlagErrors: impossible flags give an error naming the flag, never a panic.
func TestFlagErrors(t *testing.T) {
	cases := []struct {
		run  func([]string) error
		args []string
		want string
	}{
		{runCampaign, []string{"--model", "lenet5", "--weights", "x", "--bers", "2"}, "--bers"},
		{runCampaign, []string{"--model", "lenet5", "--weights", "x", "--bers", "abc"}, "--bers"},
		{runCampaign, []string{"--model", "lenet5", "--weights", "x", "--variants", "P-9"}, "--variants"},
		{runCampaign, []string{"--model", "lenet5", "--weights", "x", "--trials", "0"}, "--trials"},
		{runCampaign, []string{"--model", "nope", "--weights", "x"}, "--model"},
		{runCampaign, []string{"--model", "lenet5", "--weights", "/nonexistent.safetensors", "--backend", "go"}, "/nonexistent.safetensors"},
		{runCampaign, []string{"--model", "lenet5", "--weights", "x", "--placement", "anywhere"}, "--placement"},
		{runCampaign, []string{"--model", "lenet5", "--weights", "x", "--sign", "both"}, "--sign: inject: unknown sign fault \"both\" (want xor or negate)"},
		{runCampaign, []string{"--model", "lenet5", "--weights", "x", "--sign", "flip"}, "--sign"},
		{runCampaign, []string{"--model", "lenet5", "--weights", "x", "--split", "dev"}, "--split"},
		{runSearch, []string{"--model", "lenet5", "--weights", "x", "--n", "9"}, "--m/--n"},
		{runSearch, []string{"--model", "lenet5", "--weights", "x", "--mode", "ternary"}, "--mode"},
		{runSearch, []string{"--model", "lenet5", "--weights", "x", "--a", "200"}, "--a: accuracy threshold a = 200 outside [0, 100)"},
		{runSearch, []string{"--model", "lenet5", "--weights", "x", "--a", "100"}, "--a"},
		{runSearch, []string{"--model", "lenet5", "--weights", "x", "--a", "-5"}, "--a"},
		{runSearch, []string{"--model", "lenet5", "--weights", "x", "--b", "0"}, "--b: reliability threshold b = 0 outside (0, 100]"},
		{runSearch, []string{"--model", "lenet5", "--weights", "x", "--b", "-1"}, "--b"},
		{runSearch, []string{"--model", "lenet5", "--weights", "x", "--b", "250"}, "--b"},
		{runSearch, []string{"--model", "lenet5", "--weights", "x", "--m", "6", "--n", "4"}, "--m/--n"},
		{runSearch, []string{"--model", "lenet5", "--weights", "x", "--half-width", "1", "--min-trials", "1"}, "--min-trials"},
		{runCampaign, []string{"--model", "lenet5", "--weights", "x", "--half-width", "1", "--min-trials", "1"}, "--min-trials: 1"},
		{runCampaign, []string{"--model", "lenet5", "--weights", "x", "--half-width", "1", "--min-trials", "-3"}, "--min-trials"},
		{runCampaign, []string{"--model", "lenet5", "--weights", "x", "--half-width", "1", "--trials", "4"}, "--min-trials: 5"},
		{runCampaign, []string{"--model", "lenet5", "--weights", "x", "--half-width", "1", "--trials", "10", "--min-trials", "10"}, "--min-trials"},
		{runCampaign, []string{"--model", "lenet5", "--weights", "x", "--variants", "8-bit,P-7"}, "--variants"},
		{runTrain, []string{"--epochs", "-1"}, "--epochs"},
		{runTrain, []string{"--lr", "0"}, "--lr"},
		{runTrain, []string{"--init", "xavier"}, "--init: unknown initialization \"xavier\""},
		{runTrain, []string{"--budget", "1h", "--init", "he"}, "--init"},
		{runReport, []string{}, "no results files"},
		{runReport, []string{"/nonexistent.jsonl"}, "/nonexistent.jsonl"},
		{runBench, []string{"--ber", "1.5"}, "--ber"},
		{runBench, []string{"--variant", "P-8", "--backend", "go"}, "--variant"},
		{runReproduce, []string{"--protocol", "some"}, "--protocol"},
		{runReproduce, []string{"--backend", "nope"}, "--backend"},
	}
	for _, c := range cases {
		err := c.run(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %q", c.args, err, c.want)
		}
	}
}

// fashionMNISTOrSkip skips without the Debian Fashion-MNIST files, except under CI=true.
func fashionMNISTOrSkip(t *testing.T) {
	if _, err := os.Stat("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"); err != nil {
		testenv.SkipOrFail(t, "Fashion-MNIST not installed: %v", err)
	}
}

// randomWeights writes LeNet-5 weights (PyTorch initialisation) to dir.
func randomWeights(t *testing.T, dir string) string { return randomWeightsOf(t, dir, "lenet5") }

// randomWeightsOf writes weights of the named network (PyTorch initialisation) to
// dir/NAME.safetensors, a plain checkpoint: no training record, used as it is.
func randomWeightsOf(t *testing.T, dir, name string) string {
	t.Helper()
	m, err := models.New(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := train.InitParams(m.Params(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".safetensors")
	if err := checkpoint.Save(path, p, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

func trialLines(t *testing.T, path string) map[string]campaign.Record {
	t.Helper()
	recs, err := campaign.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]campaign.Record{}
	for _, r := range recs {
		if r.Kind == "trial" {
			k := fmt.Sprintf("%s|%g|%d", r.Variant, r.BER, r.Trial)
			if _, dup := out[k]; dup {
				t.Errorf("%s: trial %s recorded twice", path, k)
			}
			out[k] = r
		}
	}
	return out
}

// TestKillAndResume kills a real campaign process midway (SIGKILL), runs the same command again,
// and checks that the results equal an uninterrupted run's: no trial lost, none repeated.
func TestKillAndResume(t *testing.T) {
	fashionMNISTOrSkip(t)
	dir := t.TempDir()
	w := randomWeights(t, dir)
	args := func(out string) []string {
		return []string{"campaign", "--backend", "go", "--model", "lenet5", "--weights", w, "--variants", "8-bit,P-4",
			"--bers", "1e-3,1e-2", "--trials", "6", "--limit", "300", "--out", out, "--quiet"}
	}
	command := func(out string) *exec.Cmd {
		c := exec.Command(os.Args[0], args(out)...)
		c.Env = append(os.Environ(), "FORTUNE_AS_MAIN=1")
		return c
	}
	if out, err := command(filepath.Join(dir, "full")).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	want := trialLines(t, filepath.Join(dir, "full", "lenet5.jsonl"))
	if len(want) != 24 {
		t.Fatalf("uninterrupted run recorded %d trials, want 24", len(want))
	}
	killed := filepath.Join(dir, "killed")
	c := command(killed)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(killed, "lenet5.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for ctx.Err() == nil && countTrials(path) < 5 {
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = c.Wait()
	n := countTrials(path)
	if n < 5 || n >= 24 {
		t.Fatalf("killed run had %d trials, want some but not all (machine too fast or too slow?)", n)
	}
	if out, err := command(killed).CombinedOutput(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	got := trialLines(t, path)
	if len(got) != len(want) {
		t.Fatalf("resumed run has %d trials, want %d", len(got), len(want))
	}
	for k, r := range want {
		if g := got[k]; g.Correct != r.Correct || g.Seed != r.Seed {
			t.Errorf("%s: resumed %d correct (seed %d), uninterrupted %d (seed %d)", k, g.Correct, g.Seed, r.Correct, r.Seed)
		}
	}
	// The report reads it.
	files, err := writeReport([]string{path}, filepath.Join(dir, "report"), pdropModel())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("report file %s missing or empty", f)
		}
	}
	// Two runs of one model are reported apart, labelled by their folders, never pooled.
	if _, err := writeReport([]string{path, filepath.Join(dir, "full", "lenet5.jsonl")}, filepath.Join(dir, "both"), pdropModel()); err != nil {
		t.Fatal(err)
	}
	t2, _ := os.ReadFile(filepath.Join(dir, "both", "table2.csv"))
	for _, label := range []string{"lenet5 (killed),8-bit", "lenet5 (full),8-bit", "lenet5 (killed),P-4", "lenet5 (full),P-4"} {
		if strings.Count(string(t2), label) != 1 {
			t.Errorf("table2.csv has %d rows %q, want 1:\n%s", strings.Count(string(t2), label), label, t2)
		}
	}
}

func countTrials(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"kind":"trial"`) {
			n++
		}
	}
	return n
}

// TestBenchCommand runs `fortune bench` on LeNet-5 (prepared-weight inference and one fault
// trial) and checks that it reports a positive throughput and trial time.
func TestBenchCommand(t *testing.T) {
	c := exec.Command(os.Args[0], "bench", "--backend", "go", "--models", "lenet5", "--batch", "16", "--runs", "1")
	c.Env = append(os.Environ(), "FORTUNE_AS_MAIN=1")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("fortune bench: %v\n%s", err, out)
	}
	var found bool
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 6 || f[0] != "lenet5" {
			continue
		}
		found = true
		ips, err1 := strconv.ParseFloat(f[2], 64)
		trial, err2 := strconv.ParseFloat(f[4], 64)
		if err1 != nil || err2 != nil || !(ips > 0) || !(trial > 0) || f[1] != "16" {
			t.Errorf("bench line %q: want batch 16, images/s > 0, trial time > 0", line)
		}
	}
	if !found {
		t.Errorf("no lenet5 line in:\n%s", out)
	}
}
