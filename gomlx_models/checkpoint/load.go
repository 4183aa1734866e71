package checkpoint

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/internal/enum"
)

// Metadata keys of this project's checkpoints (safetensors "__metadata__" entries; all values are
// strings, as the format requires).
const (
	// MetaFormat identifies the writer; [Save] sets it to [FormatName].
	MetaFormat = "format"
	// MetaModel is the registry name of the model, e.g. "resnet18".
	MetaModel = "model"
	// MetaEpoch is the number of completed training epochs.
	MetaEpoch = "epoch"
	// MetaAccuracy is the last measured test accuracy in percent.
	MetaAccuracy = "accuracy"
	// MetaBackend describes the backend that produced the weights.
	MetaBackend = "backend"
)

// FormatName is the value of [MetaFormat] in checkpoints written by [Save].
const FormatName = "fortune-checkpoint/1"

// Format is a file format [Load] understands.
type Format int

const (
	// FormatSafetensors is a safetensors file (this project's own checkpoints are safetensors).
	FormatSafetensors Format = iota
	// FormatPyTorch is a torch.save file (zip or legacy pickle).
	FormatPyTorch
)

// formats names the file formats, in value order.
var formats = enum.New[Format]("Format", "checkpoint: unknown format", "safetensors", "pytorch")

// String returns the file format's name.
func (f Format) String() string { return formats.String(f) }

// ParseFormat reads a file format's name: "safetensors" or "pytorch".
func ParseFormat(s string) (Format, error) { return formats.Parse(s) }

// MarshalText returns the file format's name.
func (f Format) MarshalText() ([]byte, error) { return formats.MarshalText(f) }

// UnmarshalText reads a file format's name, as ParseFormat.
func (f *Format) UnmarshalText(b []byte) error { return formats.UnmarshalText(f, b) }

// Save writes a checkpoint: a safetensors file holding p in order and meta (may be nil) plus
// MetaFormat, written atomically (temporary file, fsync, rename). Python reads it with
// safetensors.torch.load_file(path) and safetensors.safe_open(path, "pt").metadata().
func Save(path string, p *Params, meta map[string]string) error {
	m := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		m[k] = v
	}
	m[MetaFormat] = FormatName
	return SaveSafetensors(path, p, m)
}

// DetectFormat tells a file's format from its extension (.safetensors; .pt, .pth, .bin, .ckpt)
// or, failing that, from its first bytes.
func DetectFormat(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".safetensors":
		return FormatSafetensors, nil
	case ".pt", ".pth", ".bin", ".ckpt":
		return FormatPyTorch, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	head := make([]byte, 9)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if bytes.HasPrefix(head, zipMagic) {
		return FormatPyTorch, nil
	}
	if n == 9 && head[8] == '{' {
		if st, err := f.Stat(); err == nil && binary.LittleEndian.Uint64(head) <= uint64(st.Size()-8) {
			return FormatSafetensors, nil
		}
	}
	if n > 0 && head[0] == 0x80 { // A pickle (legacy torch.save format).
		return FormatPyTorch, nil
	}
	return 0, fmt.Errorf("%s: neither a safetensors nor a PyTorch file", path)
}

// Load reads a checkpoint in any supported format (see [DetectFormat]): this project's own,
// another safetensors file, or a PyTorch state dict. meta is nil for PyTorch files.
func Load(path string) (p *Params, meta map[string]string, err error) {
	format, err := DetectFormat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	if format == FormatPyTorch {
		p, err = LoadPyTorch(path)
		return p, nil, err
	}
	return LoadSafetensors(path)
}

// LoadFor reads a checkpoint (see [Load]) and conforms it to the model's parameter list (see
// [Params.Conform]): the result is in the model's order and every problem (missing or unexpected
// tensors, wrong shapes or dtypes) is reported with the tensor and file names.
func LoadFor(path string, specs []models.ParamSpec) (*Params, map[string]string, error) {
	p, meta, err := Load(path)
	if err != nil {
		return nil, nil, err
	}
	p, err = p.Conform(specs, path)
	if err != nil {
		return nil, nil, err
	}
	return p, meta, nil
}
