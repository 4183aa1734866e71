package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/internal/enum/enumtest"
	"github.com/fortune-go/fortune/internal/testenv"
)

func sampleParams(t *testing.T) *Params {
	t.Helper()
	w := make([]float32, 4*3*3*3)
	for i := range w {
		w[i] = float32(i)*0.37 - 5
	}
	w[0] = float32(math.Inf(-1))
	w[1] = math.Float32frombits(0x7fc00001) // A NaN payload must survive.
	w[2] = math.Float32frombits(1)          // Denormal.
	p, err := NewParams(
		NewFloat32("conv.weight", []int{4, 3, 3, 3}, w),
		NewFloat32("conv.bias", []int{4}, []float32{1, -2, 3, -4}),
		NewFloat32("bn.weight", []int{4}, []float32{1, 1, 1, 1}),
		NewFloat32("bn.bias", []int{4}, nil),
		NewFloat32("bn.running_mean", []int{4}, []float32{0.5, 0, 0, 0}),
		NewFloat32("bn.running_var", []int{4}, []float32{1, 2, 3, 4}),
		NewInt64("bn.num_batches_tracked", nil, []int64{123456789012}),
		NewFloat32("fc.weight", []int{2, 16}, make([]float32, 32)),
		NewFloat32("fc.bias", []int{2}, []float32{0.25, -0.25}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sampleSpecs() []models.ParamSpec {
	return []models.ParamSpec{
		{Name: "conv.weight", Shape: []int{4, 3, 3, 3}, Kind: models.ConvWeight},
		{Name: "conv.bias", Shape: []int{4}, Kind: models.Bias},
		{Name: "bn.weight", Shape: []int{4}, Kind: models.BNWeight},
		{Name: "bn.bias", Shape: []int{4}, Kind: models.BNBias},
		{Name: "bn.running_mean", Shape: []int{4}, Kind: models.BNMean},
		{Name: "bn.running_var", Shape: []int{4}, Kind: models.BNVar},
		{Name: "bn.num_batches_tracked", Shape: nil, Kind: models.BNCount},
		{Name: "fc.weight", Shape: []int{2, 16}, Kind: models.LinearWeight},
		{Name: "fc.bias", Shape: []int{2}, Kind: models.Bias},
	}
}

func assertSameParams(t *testing.T, want, got *Params) {
	t.Helper()
	if !slices.Equal(want.Names(), got.Names()) {
		t.Fatalf("names: got %v, want %v", got.Names(), want.Names())
	}
	for _, w := range want.All() {
		g := got.Get(w.Name)
		if g.DType != w.DType || g.Size() != w.Size() || len(g.Shape) != len(w.Shape) || !slices.Equal(g.Shape, w.Shape) {
			t.Fatalf("%s: got %s %v, want %s %v", w.Name, g.DType, g.Shape, w.DType, w.Shape)
		}
		for i := range w.F32 {
			if math.Float32bits(w.F32[i]) != math.Float32bits(g.F32[i]) {
				t.Fatalf("%s[%d]: got %v, want %v", w.Name, i, g.F32[i], w.F32[i])
			}
		}
		if !slices.Equal(w.I64, g.I64) {
			t.Fatalf("%s: got %v, want %v", w.Name, g.I64, w.I64)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	p := sampleParams(t)
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	meta := map[string]string{MetaModel: "tiny", MetaEpoch: "3", MetaAccuracy: "91.5"}
	if err := Save(path, p, meta); err != nil {
		t.Fatal(err)
	}
	got, gotMeta, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameParams(t, p, got)
	if gotMeta[MetaModel] != "tiny" || gotMeta[MetaEpoch] != "3" || gotMeta[MetaFormat] != FormatName {
		t.Errorf("metadata: %v", gotMeta)
	}
	// Header alignment: data starts at a multiple of 8.
	raw, _ := os.ReadFile(path)
	if n := binary.LittleEndian.Uint64(raw); (n+8)%8 != 0 {
		t.Errorf("header length %d leaves the data unaligned", n)
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d files, want 1", len(entries))
	}
	// Overwrite in place.
	p.Get("fc.bias").F32[0] = 9
	if err := Save(path, p, nil); err != nil {
		t.Fatal(err)
	}
	got, _, err = LoadFor(path, sampleSpecs())
	if err != nil {
		t.Fatal(err)
	}
	assertSameParams(t, p, got)

	// Through GoMLX tensors and back.
	ts, err := p.ToTensors()
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromTensors(p.Names(), ts)
	if err != nil {
		t.Fatal(err)
	}
	assertSameParams(t, p, back)
}

func TestValidate(t *testing.T) {
	p := sampleParams(t)
	if err := p.Validate(sampleSpecs(), "x"); err != nil {
		t.Fatal(err)
	}
	specs := sampleSpecs()
	specs[0].Shape = []int{4, 3, 5, 5}                                                                         // wrong shape
	specs = append(specs, models.ParamSpec{Name: "fc2.weight", Shape: []int{2, 2}, Kind: models.LinearWeight}) // missing
	specs = slices.DeleteFunc(specs, func(s models.ParamSpec) bool { return s.Name == "conv.bias" })           // unexpected
	bad := p.Clone()
	bad.Set(NewInt64("bn.running_var", []int{4}, nil)) // wrong dtype
	err := bad.Validate(specs, "model.pt")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"model.pt", `"conv.weight" has shape [4 3 3 3], want [4 3 5 5]`,
		`missing tensor "fc2.weight"`, `unexpected tensor "conv.bias"`, `"bn.running_var" has dtype I64, want F32`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestConform(t *testing.T) {
	p := sampleParams(t)
	// Reversed order, DataParallel prefix, no num_batches_tracked.
	var entries []*Tensor
	for _, e := range slices.Backward(p.All()) {
		if strings.HasSuffix(e.Name, "num_batches_tracked") {
			continue
		}
		c := e.Clone()
		c.Name = "module." + c.Name
		entries = append(entries, c)
	}
	q, err := NewParams(entries...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := q.Conform(sampleSpecs(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := p.Clone()
	want.Get("bn.num_batches_tracked").I64[0] = 0
	assertSameParams(t, want, got)
}

func TestTruncatedAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ok.safetensors")
	if err := Save(path, sampleParams(t), map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	headerEnd := 8 + int(binary.LittleEndian.Uint64(raw))
	for _, n := range []int{0, 5, 8, headerEnd / 2, headerEnd, headerEnd + 3, len(raw) - 1} {
		bad := filepath.Join(dir, "cut.safetensors")
		if err := os.WriteFile(bad, raw[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := Load(bad)
		if err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
		if !strings.Contains(err.Error(), bad) {
			t.Errorf("truncated to %d: error %q does not name the file", n, err)
		}
		if n != headerEnd/2 && !errors.Is(err, ErrTruncated) { // Mid-header is a JSON error.
			t.Errorf("truncated to %d: error %q is not ErrTruncated", n, err)
		}
		if n == len(raw)-1 && !strings.Contains(err.Error(), `"fc.bias"`) {
			t.Errorf("error %q does not name the tensor", err)
		}
	}
	corrupt := slices.Clone(raw)
	copy(corrupt[8:], `{"x":{"dtype":"F32","shape":[1000000000000000000,1000000000000000000],"data_offsets":[0,4]}}`)
	bad := filepath.Join(dir, "corrupt.safetensors")
	_ = os.WriteFile(bad, corrupt, 0o644)
	if _, _, err := Load(bad); err == nil {
		t.Error("corrupt header: no error")
	}
	big := slices.Clone(raw)
	binary.LittleEndian.PutUint64(big, 1<<62)
	_ = os.WriteFile(bad, big, 0o644)
	if _, _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("huge header length: error %v", err)
	}
}

// torchPython returns the Python interpreter with torch (Debian's python3-torch), or skips the
// test when there is none (fails under CI=true).
func torchPython(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		testenv.SkipOrFail(t, "%s cannot import torch (%v): skipping the PyTorch interoperability test", py, err)
	}
	return py
}

type expectedFile struct {
	Order      []string `json:"order"`
	DTypeOrder []string `json:"dtype_order"`
	Tensors    map[string]struct {
		Shape  []int     `json:"shape"`
		DType  string    `json:"dtype"`
		Values []float64 `json:"values"`
	} `json:"tensors"`
}

func checkAgainst(t *testing.T, file string, p *Params, exp *expectedFile, names []string) {
	t.Helper()
	for _, name := range names {
		e := exp.Tensors[name]
		got := p.Get(name)
		if got == nil {
			t.Errorf("%s: missing %q (have %v)", file, name, p.Names())
			continue
		}
		if !slices.Equal(got.Shape, e.Shape) && !(len(got.Shape) == 0 && len(e.Shape) == 0) {
			t.Errorf("%s: %s shape %v, want %v", file, name, got.Shape, e.Shape)
			continue
		}
		if got.DType.String() != e.DType || got.Len() != len(e.Values) {
			t.Errorf("%s: %s is %s×%d, want %s×%d", file, name, got.DType, got.Len(), e.DType, len(e.Values))
			continue
		}
		for i, v := range e.Values {
			var g float64
			if got.DType == Int64 {
				g = float64(got.I64[i])
			} else {
				g = float64(got.F32[i])
				v = float64(float32(v)) // float64 values (torch.double) were rounded to float32.
			}
			if g != v {
				t.Errorf("%s: %s[%d] = %v, want %v", file, name, i, g, v)
				break
			}
		}
	}
}

func TestPyTorchFiles(t *testing.T) {
	py := torchPython(t)
	dir := t.TempDir()
	out, err := exec.Command(py, "testdata/make_torch_files.py", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("make_torch_files.py: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp expectedFile
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"zip.pt", "legacy.pt", "checkpoint.pt"} {
		path := filepath.Join(dir, name)
		p, meta, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if meta != nil {
			t.Errorf("%s: metadata %v for a PyTorch file", name, meta)
		}
		if !slices.Equal(p.Names(), exp.Order) {
			t.Errorf("%s: order %v, want %v", name, p.Names(), exp.Order)
		}
		checkAgainst(t, name, p, &exp, exp.Order)
	}
	p, err := LoadPyTorch(filepath.Join(dir, "dtypes.pt"))
	if err != nil {
		t.Fatal(err)
	}
	checkAgainst(t, "dtypes.pt", p, &exp, exp.DTypeOrder)

	st, meta, err := Load(filepath.Join(dir, "st.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("st.safetensors written by %s", meta["writer"])
	checkAgainst(t, "st.safetensors", st, &exp, append(slices.Clone(exp.Order), exp.DTypeOrder...))

	// A model-shaped validation of the real state dict.
	zp, _, _ := Load(filepath.Join(dir, "zip.pt"))
	specs := []models.ParamSpec{
		{Name: "conv.weight", Shape: []int{4, 3, 3, 3}, Kind: models.ConvWeight},
		{Name: "conv.bias", Shape: []int{4}, Kind: models.Bias},
		{Name: "bn.weight", Shape: []int{4}, Kind: models.BNWeight},
		{Name: "bn.bias", Shape: []int{4}, Kind: models.BNBias},
		{Name: "bn.running_mean", Shape: []int{4}, Kind: models.BNMean},
		{Name: "bn.running_var", Shape: []int{4}, Kind: models.BNVar},
		{Name: "bn.num_batches_tracked", Kind: models.BNCount},
		{Name: "fc.weight", Shape: []int{5, 16}, Kind: models.LinearWeight},
		{Name: "fc.bias", Shape: []int{5}, Kind: models.Bias},
	}
	err = zp.Validate(specs, "zip.pt")
	if err == nil || !strings.Contains(err.Error(), `unexpected tensor "view.offset"`) {
		t.Errorf("validation error %v", err)
	}

	// Our own checkpoint is readable by Python.
	ours := filepath.Join(dir, "ours.safetensors")
	if err := Save(ours, zp, map[string]string{MetaModel: "net"}); err != nil {
		t.Fatal(err)
	}
	script := `
import json, struct, sys, torch
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n])
assert h["__metadata__"]["model"] == "net", h["__metadata__"]
b, e = h["conv.weight"]["data_offsets"]
w = torch.frombuffer(bytearray(raw[8 + n + b:8 + n + e]), dtype=torch.float32).reshape(h["conv.weight"]["shape"])
assert torch.equal(w, torch.load(sys.argv[2])["conv.weight"])
try:
    from safetensors.torch import load_file
    sd = load_file(sys.argv[1])
    ref = torch.load(sys.argv[2])
    assert all(torch.equal(sd[k], ref[k].contiguous()) for k in ref), "mismatch"
    print("safetensors.torch.load_file ok")
except ImportError:
    print("manual read ok (no safetensors package)")
`
	out, err = exec.Command(py, "-c", script, ours, filepath.Join(dir, "zip.pt")).CombinedOutput()
	if err != nil {
		t.Fatalf("python reading our checkpoint: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))

	// Truncated and corrupt PyTorch files.
	zraw, _ := os.ReadFile(filepath.Join(dir, "zip.pt"))
	lraw, _ := os.ReadFile(filepath.Join(dir, "legacy.pt"))
	for i, raw := range [][]byte{zraw[:len(zraw)/2], zraw[:10], lraw[:len(lraw)/2], lraw[:len(lraw)-5], []byte("garbage!"),
		lraw[:len(lraw)-1], lraw[:len(lraw)-4], lraw[:len(lraw)-64]} {
		bad := filepath.Join(dir, "bad.pt")
		_ = os.WriteFile(bad, raw, 0o644)
		if _, _, err := Load(bad); err == nil {
			t.Errorf("corrupt file %d: no error", i)
		} else if !strings.Contains(err.Error(), bad) {
			t.Errorf("corrupt file %d: error %q does not name the file", i, err)
		} else {
			t.Logf("corrupt file %d: %v", i, err)
		}
	}
}

// FuzzSafetensors feeds arbitrary bytes to the safetensors reader: it must return an error or a
// well-formed Params, never panic or over-allocate. Seeds are in testdata/fuzz and below.
func FuzzSafetensors(f *testing.F) {
	var buf bytes.Buffer
	p, _ := NewParams(NewFloat32("a", []int{2}, []float32{1, 2}), NewInt64("b", nil, []int64{3}))
	header, _ := safetensorsHeader(p, map[string]string{"m": "x"})
	_ = binary.Write(&buf, binary.LittleEndian, uint64(len(header)))
	buf.Write(header)
	_ = binary.Write(&buf, binary.LittleEndian, []float32{1, 2})
	_ = binary.Write(&buf, binary.LittleEndian, int64(3))
	f.Add(buf.Bytes())
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Add([]byte("\x30\x00\x00\x00\x00\x00\x00\x00{\"x\":{\"dtype\":\"BF16\",\"shape\":[0,3],\"data_offsets\":[0,0]}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _, err := readSafetensors(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		total := 0
		for _, e := range p.All() {
			if e.Len() != e.Size() {
				t.Fatalf("%q: %d values for shape %v", e.Name, e.Len(), e.Shape)
			}
			total += e.Len()
		}
		if total > len(data) {
			t.Fatalf("%d values from %d bytes", total, len(data))
		}
	})
}

// TestFormatDTypeText: Format's and DType's names round-trip (enumtest.Check).
func TestFormatDTypeText(t *testing.T) {
	enumtest.Check(t, []Format{FormatSafetensors, FormatPyTorch}, ParseFormat)
	enumtest.Check(t, []DType{Float32, Int64}, ParseDType)
}
