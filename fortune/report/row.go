package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fortune-go/fortune/fortune/metrics"
	"github.com/fortune-go/fortune/fortune/stats"
)

var nan = math.NaN()

// BERStat holds the measurements of one (model, variant, BER) campaign.
// Missing values are NaN.
type BERStat struct {
	// BER is the bit-error rate.
	BER float64
	// VulMean is the mean accuracy drop (pp) over the trials: the
	// vulnerability.
	VulMean float64
	// VulStd is the sample standard deviation of the drop (pp).
	VulStd float64
	// CILow and CIHigh bound the confidence interval of VulMean (pp).
	CILow, CIHigh float64
	// Trials is the number of trials.
	Trials int
	// PDropEq6 is P_drop with the drop at this BER (Eq. 6).
	PDropEq6 float64
	// PDropLegacy is P_drop with the drop at BER 3e-4 (Table II's definition).
	PDropLegacy float64
	// RAP is Eq. (7) against the model's 8-bit row.
	RAP float64
}

// NewBERStat summarises per-trial accuracy drops (pp) at one BER with a
// Student-t confidence interval at the given confidence (0 → 95 %).
// P_drop and RAP are left NaN; see FillDerived. Measured trials should use
// NewBERStatCounts, which is exact; this is for drops known only as numbers
// (e.g. the paper's).
func NewBERStat(ber float64, drops []float64, confidence float64) (BERStat, error) {
	if confidence == 0 {
		confidence = stats.DefaultConfidence
	}
	s, err := stats.Summarize(drops, confidence)
	if err != nil {
		return BERStat{}, fmt.Errorf("BER %g statistics: %w", ber, err)
	}
	return newBERStat(ber, s), nil
}

// NewBERStatCounts summarises the trials at one BER from integer counts: lost[i]
// is the number of correct predictions trial i lost against the golden run
// (golden correct − faulty correct, negative when the faulty run did better),
// out of total evaluated inputs. The drops in pp are 100·lost[i]/total; mean,
// standard deviation and interval are computed from the integers
// (stats.SummarizeCounts), so trials whose losses cancel give a vulnerability
// of exactly 0 and identical losses give a zero-width interval. Confidence 0
// means 95 %. P_drop and RAP are left NaN; see FillDerived.
func NewBERStatCounts(ber float64, lost []int, total int, confidence float64) (BERStat, error) {
	if confidence == 0 {
		confidence = stats.DefaultConfidence
	}
	s, err := stats.SummarizeCounts(lost, total, 100, confidence)
	if err != nil {
		return BERStat{}, fmt.Errorf("BER %g statistics: %w", ber, err)
	}
	return newBERStat(ber, s), nil
}

func newBERStat(ber float64, s stats.Summary) BERStat {
	st := BERStat{BER: ber, VulMean: s.Mean, VulStd: s.Std, CILow: s.Lo, CIHigh: s.Hi, Trials: s.N,
		PDropEq6: nan, PDropLegacy: nan, RAP: nan}
	if s.N < 2 {
		st.VulStd, st.CILow, st.CIHigh = nan, nan, nan
	}
	return st
}

// Row is one measured (model, variant) row of our Table II, with its golden
// accuracy for Table I.
type Row struct {
	// Model is the run's label (e.g. "vgg11", or "vgg11 (legacy)" when two runs of a network are
	// reported together). Rows of different labels stay apart in every table and figure;
	// NormalizeModel maps a label to the paper's spelling only to look up the paper's numbers.
	Model string
	// Variant is "8-bit", "P-w" (protected) or "U-w" (unprotected w-bit);
	// see metrics.ParseVariant.
	Variant string
	// Golden is the fault-free accuracy (%).
	Golden float64
	// MemoryBits is the memory utilization (weights × stored bits).
	MemoryBits int64
	// HeldBytes is the memory the simulation really holds (one byte per weight plus the
	// per-channel scales and zero points); 0 when unknown (e.g. the paper's rows).
	HeldBytes int64
	// ExecTimePct is the execution time as % of the model's 8-bit run.
	ExecTimePct float64
	// PerBER holds one entry per BER, ascending.
	PerBER []BERStat
}

// Result is a set of rows with their provenance.
type Result struct {
	// Provenance describes how the rows were produced.
	Provenance Provenance
	// Rows are the measured rows.
	Rows []Row
}

// At returns the statistics at the given BER.
func (r Row) At(ber float64) (BERStat, bool) {
	for _, s := range r.PerBER {
		if sameBER(s.BER, ber) {
			return s, true
		}
	}
	return BERStat{}, false
}

func sameBER(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

// FillDerived computes, for every row and BER, P_drop (Eq. 6, BER-matched),
// P_drop (legacy: drop at 3e-4, NaN if the row has no 3e-4 entry) and RAP
// against the "8-bit" row of the same label (NaN if there is none).
func FillDerived(rows []Row, pm metrics.PDropModel) error {
	base := map[string]Row{}
	for _, r := range rows {
		v, err := metrics.ParseVariant(r.Variant)
		if err != nil {
			return fmt.Errorf("fill derived, %s: %w", r.Model, err)
		}
		if v.Width == 8 && !v.Protected {
			base[r.Model] = r
		}
	}
	for i := range rows {
		r := &rows[i]
		ref, hasRef := r.At(metrics.LegacyBER)
		b, hasBase := base[r.Model]
		for k := range r.PerBER {
			s := &r.PerBER[k]
			s.PDropEq6, s.PDropLegacy, s.RAP = nan, nan, nan
			if math.IsNaN(s.VulMean) {
				continue
			}
			p, err := pm.Eq6(float64(r.MemoryBits), s.BER, s.VulMean)
			if err != nil {
				return fmt.Errorf("fill derived, %s %s: %w", r.Model, r.Variant, err)
			}
			s.PDropEq6 = p
			if hasRef && !math.IsNaN(ref.VulMean) {
				if s.PDropLegacy, err = pm.Legacy(float64(r.MemoryBits), s.BER, ref.VulMean); err != nil {
					return fmt.Errorf("fill derived, %s %s: %w", r.Model, r.Variant, err)
				}
			}
			if hasBase && b.MemoryBits > 0 && b.ExecTimePct > 0 && !math.IsNaN(r.ExecTimePct) {
				if s.RAP, err = metrics.RAP(s.VulMean, float64(r.MemoryBits), float64(b.MemoryBits), r.ExecTimePct, b.ExecTimePct); err != nil {
					return fmt.Errorf("fill derived, %s %s: %w", r.Model, r.Variant, err)
				}
			}
		}
	}
	return nil
}

// NormalizeModel maps common spellings to the paper's model names
// ("vgg11_bn" → "VGG11", "resnet-18" → "ResNet18", "alexnet" → "AlexNet",
// "inception_v3" → "Inception"); other names are returned unchanged. It is for looking up the
// paper's numbers only: a run label such as "vgg11 (legacy)" also maps to "VGG11", so rows are
// never grouped by it.
func NormalizeModel(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
		}
	}
	k := b.String()
	switch {
	case strings.HasPrefix(k, "vgg11"):
		return "VGG11"
	case strings.HasPrefix(k, "resnet18"):
		return "ResNet18"
	case strings.HasPrefix(k, "alexnet"):
		return "AlexNet"
	case strings.HasPrefix(k, "inception"):
		return "Inception"
	}
	return name
}

// Provenance says how a file's numbers were produced. It is written at the
// top of every table file.
type Provenance struct {
	// Title names the content, e.g. "Table II (ours)".
	Title string
	// Version describes the code that wrote the file: buildinfo.Current().String() (module
	// version, VCS revision, uncommitted changes, Go version).
	Version string
	// Date is when the numbers were produced; zero means now.
	Date time.Time
	// Backend is the compute backend, e.g. "xla:cuda".
	Backend string
	// Device is the device, e.g. "NVIDIA H100".
	Device string
	// Seeds maps a purpose ("faults", "data") to its seed.
	Seeds map[string]uint64
	// Settings maps setting names to values (fault model, trials, …).
	Settings map[string]string
}

// oneLine flattens s for single-line headers.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Fields returns the provenance as ordered key/value pairs: title, version,
// date, backend, device, seeds, then settings sorted by name ("setting
// <name>"). Empty fields read "unknown".
func (p Provenance) Fields() [][2]string {
	or := func(s string) string {
		if s = oneLine(s); s == "" {
			return "unknown"
		}
		return s
	}
	date := p.Date
	if date.IsZero() {
		date = time.Now()
	}
	var seeds []string
	for _, k := range sortedKeys(p.Seeds) {
		seeds = append(seeds, oneLine(k)+"="+strconv.FormatUint(p.Seeds[k], 10))
	}
	out := [][2]string{}
	if p.Title != "" {
		out = append(out, [2]string{"title", oneLine(p.Title)})
	}
	out = append(out,
		[2]string{"version", or(p.Version)},
		[2]string{"date", date.UTC().Format(time.RFC3339)},
		[2]string{"backend", or(p.Backend)},
		[2]string{"device", or(p.Device)},
		[2]string{"seeds", or(strings.Join(seeds, " "))},
	)
	for _, k := range sortedKeys(p.Settings) {
		out = append(out, [2]string{"setting " + oneLine(k), or(p.Settings[k])})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
