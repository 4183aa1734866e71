// Package report renders the FORTUNE paper's tables and figures from our
// measurements and holds the paper's own Table I and Table II as data
// (docs/method.md §11), so that both can be printed side by side.
//
// Tables are written as CSV (with a '#'-comment provenance header; read them
// back with encoding/csv and Reader.Comment = '#') and as Markdown in the
// paper's layout (with a provenance header block). Figures 5, 6 and 7 are
// drawn with gonum.org/v1/plot and returned as SVG and PNG bytes.
package report

import (
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fortune-go/fortune/fortune/metrics"
)

//go:embed paperdata/table1.csv paperdata/table2.csv
var paperFS embed.FS

// PaperBERs are the bit-error rates of the paper's Table II, ascending.
var PaperBERs = []float64{1e-5, 3e-5, 1e-4, 3e-4}

// PaperModels are the paper's model names, in its column order.
var PaperModels = []string{"VGG11", "ResNet18", "AlexNet", "Inception"}

// PaperTableICSV returns the embedded CSV text of the paper's Table I.
func PaperTableICSV() string { return mustRead("paperdata/table1.csv") }

// PaperTableIICSV returns the embedded CSV text of the paper's Table II.
func PaperTableIICSV() string { return mustRead("paperdata/table2.csv") }

func mustRead(name string) string {
	b, err := paperFS.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("report: embedded %s missing: %v", name, err))
	}
	return string(b)
}

// TableIRow is one row of Table I: the fault-free accuracy (%) of every model
// at one data width.
type TableIRow struct {
	// Type is the paper's label, e.g. "8-bit".
	Type string
	// Width is the data bit width.
	Width int
	// Accuracy maps a model name (PaperModels spelling) to its accuracy (%).
	Accuracy map[string]float64
}

// TableIIRow is one row of Table II.
type TableIIRow struct {
	// Model is the paper's model name, e.g. "VGG11".
	Model string
	// Type is the paper's label, e.g. "P-5-bit".
	Type string
	// Variant is the normalized variant, e.g. "P-5" or "8-bit".
	Variant string
	// MemoryBits is the "Memory Utilization" column (bits).
	MemoryBits int64
	// ExecTimePct is the "Execution Time" column (% of 8-bit).
	ExecTimePct float64
	// BERs are the bit-error rates of the per-BER columns.
	BERs []float64
	// Vulnerability is the accuracy drop (pp) per BER.
	Vulnerability []float64
	// PDrop is P_drop per BER (plain number, not E-3).
	PDrop []float64
}

// PaperTableI parses the embedded Table I.
func PaperTableI() ([]TableIRow, error) {
	rows, err := ParseTableI(strings.NewReader(PaperTableICSV()))
	if err != nil {
		return nil, fmt.Errorf("embedded paper table I: %w", err)
	}
	return rows, nil
}

// PaperTableII parses the embedded Table II.
func PaperTableII() ([]TableIIRow, error) {
	rows, err := ParseTableII(strings.NewReader(PaperTableIICSV()))
	if err != nil {
		return nil, fmt.Errorf("embedded paper table II: %w", err)
	}
	return rows, nil
}

// paperTables parses both embedded tables.
func paperTables() ([]TableIRow, []TableIIRow, error) {
	t1, err := PaperTableI()
	if err != nil {
		return nil, nil, err
	}
	t2, err := PaperTableII()
	if err != nil {
		return nil, nil, err
	}
	return t1, t2, nil
}

func readCSV(r io.Reader) ([][]string, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("read csv: %d records, want a header and at least one row", len(recs))
	}
	return recs, nil
}

// ParseTableI parses CSV in the layout of docs/method.md §11 Table I
// (type,<model>,<model>,…). Lines starting with '#' are ignored.
func ParseTableI(r io.Reader) ([]TableIRow, error) {
	recs, err := readCSV(r)
	if err != nil {
		return nil, fmt.Errorf("parse table I: %w", err)
	}
	hdr := recs[0]
	if hdr[0] != "type" {
		return nil, fmt.Errorf("parse table I: first column %q, want \"type\"", hdr[0])
	}
	var rows []TableIRow
	for i, rec := range recs[1:] {
		v, err := metrics.ParseVariant(rec[0])
		if err != nil {
			return nil, fmt.Errorf("parse table I, row %d: %w", i+1, err)
		}
		row := TableIRow{Type: rec[0], Width: v.Width, Accuracy: map[string]float64{}}
		for j := 1; j < len(hdr); j++ {
			x, err := strconv.ParseFloat(rec[j], 64)
			if err != nil {
				return nil, fmt.Errorf("parse table I, row %d, column %s: %w", i+1, hdr[j], err)
			}
			row.Accuracy[hdr[j]] = x
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ParseTableII parses CSV in the layout of docs/method.md §11 Table II
// (model,type,memory_bits,exec_time_pct,vul_<BER>…,pdrop_<BER>…).
func ParseTableII(r io.Reader) ([]TableIIRow, error) {
	recs, err := readCSV(r)
	if err != nil {
		return nil, fmt.Errorf("parse table II: %w", err)
	}
	hdr := recs[0]
	if len(hdr) < 4 || hdr[0] != "model" || hdr[1] != "type" || hdr[2] != "memory_bits" || hdr[3] != "exec_time_pct" {
		return nil, fmt.Errorf("parse table II: unexpected header %v", hdr)
	}
	var vulCols, pdCols []int
	var bers []float64
	for j := 4; j < len(hdr); j++ {
		switch {
		case strings.HasPrefix(hdr[j], "vul_"):
			b, err := strconv.ParseFloat(strings.TrimPrefix(hdr[j], "vul_"), 64)
			if err != nil {
				return nil, fmt.Errorf("parse table II, column %s: %w", hdr[j], err)
			}
			bers = append(bers, b)
			vulCols = append(vulCols, j)
		case strings.HasPrefix(hdr[j], "pdrop_"):
			pdCols = append(pdCols, j)
		default:
			return nil, fmt.Errorf("parse table II: unknown column %q", hdr[j])
		}
	}
	if len(pdCols) != len(vulCols) {
		return nil, fmt.Errorf("parse table II: %d vulnerability but %d P_drop columns", len(vulCols), len(pdCols))
	}
	for k, j := range pdCols {
		if want := "pdrop_" + strings.TrimPrefix(hdr[vulCols[k]], "vul_"); hdr[j] != want {
			return nil, fmt.Errorf("parse table II: column %q where %q expected", hdr[j], want)
		}
	}
	var rows []TableIIRow
	for i, rec := range recs[1:] {
		v, err := metrics.ParseVariant(rec[1])
		if err != nil {
			return nil, fmt.Errorf("parse table II, row %d: %w", i+1, err)
		}
		row := TableIIRow{Model: rec[0], Type: rec[1], Variant: v.String(), BERs: append([]float64(nil), bers...)}
		if row.MemoryBits, err = strconv.ParseInt(rec[2], 10, 64); err != nil {
			return nil, fmt.Errorf("parse table II, row %d memory: %w", i+1, err)
		}
		if row.ExecTimePct, err = strconv.ParseFloat(rec[3], 64); err != nil {
			return nil, fmt.Errorf("parse table II, row %d execution time: %w", i+1, err)
		}
		for k := range bers {
			vul, err := strconv.ParseFloat(rec[vulCols[k]], 64)
			if err != nil {
				return nil, fmt.Errorf("parse table II, row %d, %s: %w", i+1, hdr[vulCols[k]], err)
			}
			pd, err := strconv.ParseFloat(rec[pdCols[k]], 64)
			if err != nil {
				return nil, fmt.Errorf("parse table II, row %d, %s: %w", i+1, hdr[pdCols[k]], err)
			}
			row.Vulnerability = append(row.Vulnerability, vul)
			row.PDrop = append(row.PDrop, pd)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// PaperRows converts the paper's Table II (with goldens from Table I) into
// Rows, so the paper can be rendered and plotted with the same writers.
// The paper's P_drop fills PDropLegacy (it is the legacy definition);
// PDropEq6 and RAP are recomputed with pm from the table's vulnerabilities
// and memory; std and CI are NaN and Trials is 20 (the code's constant).
func PaperRows(pm metrics.PDropModel) ([]Row, error) {
	t1, t2, err := paperTables()
	if err != nil {
		return nil, err
	}
	var rows []Row
	for _, p := range t2 {
		v, err := metrics.ParseVariant(p.Variant)
		if err != nil {
			return nil, fmt.Errorf("paper rows: %w", err)
		}
		r := Row{Model: p.Model, Variant: p.Variant, MemoryBits: p.MemoryBits, ExecTimePct: p.ExecTimePct, Golden: nan}
		for _, t := range t1 {
			if t.Width == v.Width {
				if g, ok := t.Accuracy[p.Model]; ok {
					r.Golden = g
				}
			}
		}
		for k, b := range p.BERs {
			r.PerBER = append(r.PerBER, BERStat{BER: b, VulMean: p.Vulnerability[k], VulStd: nan, CILow: nan, CIHigh: nan, Trials: 20})
		}
		rows = append(rows, r)
	}
	if err := FillDerived(rows, pm); err != nil {
		return nil, fmt.Errorf("paper rows: %w", err)
	}
	for i, p := range t2 {
		for k := range p.BERs {
			rows[i].PerBER[k].PDropLegacy = p.PDrop[k]
		}
	}
	return rows, nil
}
