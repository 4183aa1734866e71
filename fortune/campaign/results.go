package campaign

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/fortune-go/fortune/fortune/buildinfo"
)

// Record is one line of a results file (JSON Lines). Kind says which fields are set:
//   - "header": Settings and Provenance of the run (first line), and Schema, the version of the
//     settings' meaning (SettingsSchema when written; absent, in files written before it was
//     recorded, it reads as 1);
//   - "resume": Provenance of a later part of the run, written when it is resumed by other
//     code (another revision or build), backend or device than the part before;
//   - "fp32": accuracy of the unquantized network (Correct, Total);
//   - "golden": fault-free accuracy of a variant (Variant, Correct, Total, MemoryBits, HeldBytes);
//   - "trial": one faulty trial (Variant, BER, Trial, Seed, Faults, Sites, Correct, Total);
//     Faults is the number of faults injected: F = ⌊BER·n⌋ for the distinct, replacement and
//     legacy placements, and for bernoulli (a random count, BER·n on average) the number of
//     bits that flipped in this trial; Sites is the number of distinct bit positions changed;
//   - "timing": median execution time of fault-free protected inference (Variant, Seconds, Runs),
//     with every run's time in Durations (ascending; absent from files written before it was).
type Record struct {
	Kind       string      `json:"kind"`
	Schema     int         `json:"schema,omitempty"` // See the "header" kind above.
	Settings   *Settings   `json:"settings,omitempty"`
	Provenance *Provenance `json:"provenance,omitempty"`
	Model      string      `json:"model,omitempty"`
	Variant    string      `json:"variant,omitempty"`
	BER        float64     `json:"ber,omitempty"`
	Trial      int         `json:"trial,omitempty"`
	Seed       uint64      `json:"seed,omitempty"`
	Faults     int         `json:"faults,omitempty"` // See the "trial" kind above.
	Sites      int         `json:"sites,omitempty"`
	Correct    int         `json:"correct"`
	Total      int         `json:"total,omitempty"`
	MemoryBits int64       `json:"memory_bits,omitempty"`
	HeldBytes  int64       `json:"held_bytes,omitempty"`
	Seconds    float64     `json:"seconds,omitempty"`
	Runs       int         `json:"runs,omitempty"`
	Durations  []float64   `json:"durations,omitempty"`
}

// SchemaVersion returns a header's settings schema version: Schema, or 1 where it is absent
// (files written before the version was recorded).
func (r Record) SchemaVersion() int {
	if r.Schema == 0 {
		return 1
	}
	return r.Schema
}

// Accuracy returns Correct/Total in percent.
func (r Record) Accuracy() float64 { return 100 * float64(r.Correct) / float64(r.Total) }

// Provenance says where and how a run was made.
type Provenance struct {
	// Version describes the code on one line (buildinfo.Build.String: module version, VCS
	// revision, uncommitted changes, Go version); Open fills it from Build when empty.
	Version string `json:"version"`
	// Build is the code that wrote the records; Open fills it with buildinfo.Current when nil.
	Build   *buildinfo.Build `json:"build,omitempty"`
	Backend string           `json:"backend"`
	Device  string           `json:"device"`
	// TF32 and Deterministic are backend.Info's: "off"/"on" on a CUDA backend, omitted on others.
	TF32          string `json:"tf32,omitempty"`
	Deterministic string `json:"deterministic,omitempty"`
	Started       string `json:"started"`
}

// stamp fills in the running binary's build where the caller left it out.
func (p Provenance) stamp() Provenance {
	if p.Build == nil {
		b := buildinfo.Current()
		p.Build = &b
	}
	if p.Version == "" {
		p.Version = p.Build.String()
	}
	return p
}

// sameCode says p and q describe the same code, backend, device and CUDA precision settings.
func (p Provenance) sameCode(q *Provenance) bool {
	if q == nil || p.Version != q.Version || p.Backend != q.Backend || p.Device != q.Device ||
		p.TF32 != q.TF32 || p.Deterministic != q.Deterministic {
		return false
	}
	return (p.Build == nil) == (q.Build == nil) && (p.Build == nil || *p.Build == *q.Build)
}

// Versions returns the distinct code versions (Provenance.Version) that wrote records: the
// header's, then those of "resume" records, in file order.
func Versions(records []Record) []string {
	var out []string
	for _, r := range records {
		if (r.Kind == "header" || r.Kind == "resume") && r.Provenance != nil && !slices.Contains(out, r.Provenance.Version) {
			out = append(out, r.Provenance.Version)
		}
	}
	return out
}

// key identifies a finished unit of work.
type key struct {
	kind, variant string
	ber           float64
	trial         int
}

func (r Record) key() key { return key{r.Kind, r.Variant, r.BER, r.Trial} }

// Store is an append-only results file: every record is written as one line and synced before
// Append returns, so an interrupted run loses nothing it reported as done, and re-opening the
// file resumes it.
type Store struct {
	path    string
	f       *os.File
	records []Record
	done    map[key]int // Index into records.
}

// Open opens (or creates) the results file for a run with the given settings. An existing file
// must have been started with equal settings, under this code's SettingsSchema; otherwise the
// error names every differing field and says what to do (run with the stored settings, or
// use a new output folder). A torn last line (a crash mid-write) is cut off.
// The provenance (with the running binary's build filled in, see Provenance) goes into the
// header of a new file; resuming a file whose last provenance differs in code, backend or device
// appends a "resume" record with it, so every record can be traced to the code that wrote it.
func Open(path string, s Settings, prov Provenance) (*Store, error) {
	prov = prov.stamp()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("results %s: %w", path, err)
	}
	st := &Store{path: path, done: map[key]int{}}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("results %s: %w", path, err)
	}
	if end := bytes.LastIndexByte(data, '\n'); end+1 != len(data) {
		data = data[:end+1] // Drop a torn last line.
		if err := os.Truncate(path, int64(len(data))); err != nil {
			return nil, fmt.Errorf("results %s: cutting a torn last line: %w", path, err)
		}
	}
	if err := st.parse(data); err != nil {
		return nil, err
	}
	st.f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("results %s: %w", path, err)
	}
	if len(st.records) == 0 {
		return st, st.Append(Record{Kind: "header", Schema: SettingsSchema, Settings: &s, Provenance: &prov})
	}
	h := st.records[0]
	if h.Kind != "header" || h.Settings == nil {
		st.Close()
		return nil, fmt.Errorf("results %s: first line is not a header", path)
	}
	if v := h.SchemaVersion(); v != SettingsSchema {
		st.Close()
		return nil, fmt.Errorf("results %s has settings schema %d, this code resumes schema %d (its settings may not mean the same here): "+
			"use a new output folder (--out), or resume it with the code that wrote it (its header's provenance)", path, v, SettingsSchema)
	}
	if diff := h.Settings.Diff(s); diff != "" {
		st.Close()
		return nil, fmt.Errorf("results %s was started with other settings (%s): to resume it, run with the settings stored in its header (first line); "+
			"to start a new campaign, use a new output folder (--out)", path, diff)
	}
	last := h.Provenance
	for _, r := range st.records {
		if r.Kind == "resume" {
			last = r.Provenance
		}
	}
	if !prov.sameCode(last) {
		if err := st.Append(Record{Kind: "resume", Provenance: &prov}); err != nil {
			st.Close()
			return nil, err
		}
	}
	return st, nil
}

func (st *Store) parse(data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("results %s line %d: %w", st.path, line, err)
		}
		st.add(r)
	}
	return sc.Err()
}

func (st *Store) add(r Record) {
	st.done[r.key()] = len(st.records)
	st.records = append(st.records, r)
}

// Append writes r as one line and syncs the file.
func (st *Store) Append(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("results %s: %w", st.path, err)
	}
	if _, err := st.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("results %s: %w", st.path, err)
	}
	if err := st.f.Sync(); err != nil {
		return fmt.Errorf("results %s: %w", st.path, err)
	}
	st.add(r)
	return nil
}

// Find returns the finished record of a kind for a variant, BER and trial.
func (st *Store) Find(kind, variant string, ber float64, trial int) (Record, bool) {
	i, ok := st.done[key{kind, variant, ber, trial}]
	if !ok {
		return Record{}, false
	}
	return st.records[i], true
}

// Records returns every record, in file order.
func (st *Store) Records() []Record { return st.records }

// Close closes the file.
func (st *Store) Close() error {
	if st.f == nil {
		return nil
	}
	err := st.f.Close()
	st.f = nil
	return err
}

// ReadFile reads a finished or partial results file without opening it for writing.
func ReadFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("results %s: %w", path, err)
	}
	if end := bytes.LastIndexByte(data, '\n'); end+1 != len(data) {
		data = data[:end+1]
	}
	st := &Store{path: path, done: map[key]int{}}
	if err := st.parse(data); err != nil {
		return nil, err
	}
	return st.records, nil
}

// Losses are one model and variant's records: its golden record and, per BER, each trial's loss
// golden correct − faulty correct (an integer, so that trials whose losses cancel give a mean
// drop of exactly 0).
type Losses struct {
	Golden Record
	PerBER map[float64][]int
}

// BERs returns the BERs of l's trials, in increasing order.
func (l Losses) BERs() []float64 { return slices.Sorted(maps.Keys(l.PerBER)) }

// LossesOf groups a campaign's golden and trial records by model and variant, in the order of
// the golden records (a later golden record of a model and variant replaces an earlier one). A
// trial without a golden record, or evaluated on a different number of inputs than its golden
// run, is an error.
func LossesOf(records []Record) ([]Losses, error) {
	type k struct{ model, variant string }
	index := map[k]int{}
	var out []Losses
	for _, r := range records {
		if r.Kind != "golden" {
			continue
		}
		key := k{r.Model, r.Variant}
		if i, ok := index[key]; ok {
			out[i].Golden = r
			continue
		}
		index[key] = len(out)
		out = append(out, Losses{Golden: r, PerBER: map[float64][]int{}})
	}
	for _, r := range records {
		if r.Kind != "trial" {
			continue
		}
		i, ok := index[k{r.Model, r.Variant}]
		if !ok {
			return nil, fmt.Errorf("results: trial of %s %s without a golden record", r.Model, r.Variant)
		}
		g := out[i].Golden
		if r.Total != g.Total {
			return nil, fmt.Errorf("results: trial %d of %s %s at BER %g evaluated %d inputs, its golden run %d",
				r.Trial, r.Model, r.Variant, r.BER, r.Total, g.Total)
		}
		out[i].PerBER[r.BER] = append(out[i].PerBER[r.BER], g.Correct-r.Correct)
	}
	return out, nil
}
