package campaign

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Record is one line of a results file (JSON Lines). Kind says which fields are set:
//   - "header": Settings and Provenance of the run (first line);
//   - "fp32": accuracy of the unquantized network (Correct, Total);
//   - "golden": fault-free accuracy of a variant (Variant, Correct, Total, MemoryBits, HeldBytes);
//   - "trial": one faulty trial (Variant, BER, Trial, Seed, Faults, Sites, Correct, Total);
//   - "timing": median execution time of fault-free protected inference (Variant, Seconds, Runs).
type Record struct {
	Kind       string      `json:"kind"`
	Settings   *Settings   `json:"settings,omitempty"`
	Provenance *Provenance `json:"provenance,omitempty"`
	Model      string      `json:"model,omitempty"`
	Variant    string      `json:"variant,omitempty"`
	BER        float64     `json:"ber,omitempty"`
	Trial      int         `json:"trial,omitempty"`
	Seed       uint64      `json:"seed,omitempty"`
	Faults     int         `json:"faults,omitempty"`
	Sites      int         `json:"sites,omitempty"`
	Correct    int         `json:"correct"`
	Total      int         `json:"total,omitempty"`
	MemoryBits int64       `json:"memory_bits,omitempty"`
	HeldBytes  int64       `json:"held_bytes,omitempty"`
	Seconds    float64     `json:"seconds,omitempty"`
	Runs       int         `json:"runs,omitempty"`
}

// Accuracy returns Correct/Total in percent.
func (r Record) Accuracy() float64 { return 100 * float64(r.Correct) / float64(r.Total) }

// Provenance says where and how a run was made.
type Provenance struct {
	Version string `json:"version"`
	Backend string `json:"backend"`
	Device  string `json:"device"`
	Started string `json:"started"`
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
// must have been started with equal settings; a torn last line (a crash mid-write) is cut off.
func Open(path string, s Settings, prov Provenance) (*Store, error) {
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
		return st, st.Append(Record{Kind: "header", Settings: &s, Provenance: &prov})
	}
	h := st.records[0]
	if h.Kind != "header" || h.Settings == nil {
		st.Close()
		return nil, fmt.Errorf("results %s: first line is not a header", path)
	}
	if diff := h.Settings.Diff(s); diff != "" {
		st.Close()
		return nil, fmt.Errorf("results %s was started with other settings (%s): use another output folder or the same settings", path, diff)
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
