package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/fortune-go/fortune/fortune/metrics"
)

// BERLabel formats a BER the way the paper's column names do: 1e-5, 3e-4.
func BERLabel(ber float64) string {
	s := strconv.FormatFloat(ber, 'e', -1, 64)
	mant, exp, ok := strings.Cut(s, "e")
	if !ok {
		return s
	}
	sign := exp[:1]
	digits := strings.TrimLeft(exp[1:], "0")
	if digits == "" {
		digits = "0"
	}
	if sign == "+" {
		sign = ""
	}
	return mant + "e" + sign + digits
}

// csvNum formats a number for CSV: shortest exact representation, empty for NaN.
func csvNum(x float64) string {
	if math.IsNaN(x) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// FormatNumber formats x for a table or figure with 3 significant digits, the one number
// format of the Markdown tables: plain decimals when 1e-3 ≤ |x| < 1e3 after
// rounding (74.5, 5.62, 0.180, 142, 0.00123), otherwise scientific with a
// two-digit exponent (9.26e-07, 1.51e+03). Trailing zeros are kept, so every value shows its 3
// digits. Zero prints "0", NaN "–" and infinities "∞"/"-∞".
func FormatNumber(x float64) string {
	if s, ok := formatSpecial(x); ok {
		return s
	}
	e := strconv.FormatFloat(x, 'e', 2, 64) // Rounded first: 999.6 → 1.00e+03.
	exp, err := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if err != nil || exp < -3 || exp > 2 {
		return e
	}
	return strconv.FormatFloat(x, 'f', max(0, 2-exp), 64)
}

// negMark marks a negative vulnerability, P_drop or RAP in the tables and
// figures; negFootnote explains it.
const (
	negMark     = "†"
	negFootnote = "† Negative: on average the faulty trials classified more inputs correctly " +
		"than the fault-free network, so the mean accuracy drop (and with it P_drop and RAP) is " +
		"below 0. Faults do not improve a network; this is sampling noise around 0 (see the interval)."
)

// formatAccuracy formats a fault-free accuracy (%) with 2 decimals, the paper's
// Table I format and the resolution of the measurement (1 image of 9,984 is
// 0.01 pp): with 3 significant digits the paper's 92.19 (5-bit) and 92.18
// (4-bit) would both read 92.2. NaN prints "–".
func formatAccuracy(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// numMarked is FormatNumber with negMark appended to a negative value.
func numMarked(x float64) string {
	if x < 0 {
		return FormatNumber(x) + negMark
	}
	return FormatNumber(x)
}

// PaperType returns the paper's label of a variant: "8-bit", "P-5-bit", and
// "5-bit" for an unprotected 5-bit variant; a classic code of docs/method.md
// §12, which the paper has not, keeps its own label ("SEC-4").
func PaperType(variant string) string {
	v, err := metrics.ParseVariant(variant)
	if err != nil {
		return variant
	}
	if v.Code != metrics.CodeNone {
		return v.String()
	}
	if v.Protected {
		return fmt.Sprintf("P-%d-bit", v.Width)
	}
	return fmt.Sprintf("%d-bit", v.Width)
}

func csvHeader(buf *bytes.Buffer, prov Provenance, title string) {
	if prov.Title == "" {
		prov.Title = title
	}
	for _, kv := range prov.Fields() {
		fmt.Fprintf(buf, "# %s: %s\n", kv[0], kv[1])
	}
}

func mdHeader(buf *bytes.Buffer, prov Provenance, title string) {
	if prov.Title == "" {
		prov.Title = title
	}
	fmt.Fprintf(buf, "## %s\n\n", mdEscape(oneLine(prov.Title)))
	for _, kv := range prov.Fields() {
		if kv[0] == "title" {
			continue
		}
		fmt.Fprintf(buf, "- **%s:** %s\n", mdEscape(kv[0]), mdEscape(kv[1]))
	}
	buf.WriteString("\n")
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func mdTable(buf *bytes.Buffer, header []string, align []string, rows [][]string) {
	buf.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for i := range header {
		a := "---"
		if i < len(align) && align[i] == "r" {
			a = "--:"
		}
		buf.WriteString(a + "|")
	}
	buf.WriteString("\n")
	for _, r := range rows {
		esc := make([]string, len(r))
		for i, c := range r {
			esc[i] = mdEscape(c)
		}
		buf.WriteString("| " + strings.Join(esc, " | ") + " |\n")
	}
}

func writeCSV(buf *bytes.Buffer, recs [][]string) error {
	w := csv.NewWriter(buf)
	if err := w.WriteAll(recs); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// tableI builds the Table I matrix: one column per row label (Row.Model, not normalized: two
// runs of one network are two columns) in order of first appearance, widths descending; golden
// of the unprotected variant preferred.
func tableI(rows []Row) (models []string, widths []int, acc map[string]map[int]float64, err error) {
	acc = map[string]map[int]float64{}
	prot := map[string]map[int]bool{}
	for _, r := range rows {
		v, err := metrics.ParseVariant(r.Variant)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("table I, %s: %w", r.Model, err)
		}
		m := r.Model
		if _, ok := acc[m]; !ok {
			models = append(models, m)
			acc[m] = map[int]float64{}
			prot[m] = map[int]bool{}
		}
		if math.IsNaN(r.Golden) {
			continue
		}
		_, have := acc[m][v.Width]
		if !have || (prot[m][v.Width] && !v.Protected) {
			if !have && !containsInt(widths, v.Width) {
				widths = append(widths, v.Width)
			}
			acc[m][v.Width] = r.Golden
			prot[m][v.Width] = v.Protected
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(widths)))
	return models, widths, acc, nil
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TableICSV renders our Table I (golden accuracy, %) as CSV in the paper's
// layout (type,<model>…), preceded by the provenance as '#' comments.
func TableICSV(prov Provenance, rows []Row) ([]byte, error) {
	models, widths, acc, err := tableI(rows)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	csvHeader(&buf, prov, "Table I (base accuracy, %)")
	recs := append([][]string{append([]string{"type"}, models...)}, tableIBody(models, widths, acc, csvNum)...)
	if err := writeCSV(&buf, recs); err != nil {
		return nil, fmt.Errorf("table I: %w", err)
	}
	return buf.Bytes(), nil
}

// TableIMarkdown renders our Table I as Markdown (2 decimals, as the paper's;
// see formatAccuracy), preceded by a provenance header block.
func TableIMarkdown(prov Provenance, rows []Row) ([]byte, error) {
	models, widths, acc, err := tableI(rows)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	mdHeader(&buf, prov, "Table I (base accuracy, %)")
	body := tableIBody(models, widths, acc, formatAccuracy)
	align := []string{"l"}
	for range models {
		align = append(align, "r")
	}
	mdTable(&buf, append([]string{"Type"}, models...), align, body)
	return buf.Bytes(), nil
}

// unionBERs returns every BER that occurs in rows, ascending.
func unionBERs(rows []Row) []float64 {
	var out []float64
	for _, r := range rows {
		for _, s := range r.PerBER {
			found := false
			for _, b := range out {
				if sameBER(b, s.BER) {
					found = true
				}
			}
			if !found {
				out = append(out, s.BER)
			}
		}
	}
	sort.Float64s(out)
	return out
}

func statAt(r Row, ber float64) BERStat {
	if s, ok := r.At(ber); ok {
		return s
	}
	return BERStat{BER: ber, VulMean: nan, VulStd: nan, CILow: nan, CIHigh: nan, PDropEq6: nan, PDropLegacy: nan, RAP: nan}
}

// TableIICSV renders our Table II as CSV with every measured column:
// model,variant,golden,memory_bits,held_bytes,exec_time_pct, then per BER the
// vulnerability mean (vul_<BER>), std, CI bounds, trials, P_drop (Eq. 6 and
// legacy) and RAP. Missing values are empty.
func TableIICSV(prov Provenance, rows []Row) ([]byte, error) {
	bers := unionBERs(rows)
	var buf bytes.Buffer
	csvHeader(&buf, prov, "Table II (memory, time, vulnerability, P_drop, RAP)")
	hdr := []string{"model", "variant", "golden", "memory_bits", "held_bytes", "exec_time_pct"}
	groups := []string{"vul_", "vul_std_", "vul_ci_lo_", "vul_ci_hi_", "trials_", "pdrop_eq6_", "pdrop_legacy_", "rap_"}
	for _, g := range groups {
		for _, b := range bers {
			hdr = append(hdr, g+BERLabel(b))
		}
	}
	recs := [][]string{hdr}
	for _, r := range rows {
		if _, err := metrics.ParseVariant(r.Variant); err != nil {
			return nil, fmt.Errorf("table II, %s: %w", r.Model, err)
		}
		held := ""
		if r.HeldBytes > 0 {
			held = strconv.FormatInt(r.HeldBytes, 10)
		}
		rec := []string{r.Model, r.Variant, csvNum(r.Golden), strconv.FormatInt(r.MemoryBits, 10), held, csvNum(r.ExecTimePct)}
		for gi := range groups {
			for _, b := range bers {
				s := statAt(r, b)
				var cell string
				switch gi {
				case 0:
					cell = csvNum(s.VulMean)
				case 1:
					cell = csvNum(s.VulStd)
				case 2:
					cell = csvNum(s.CILow)
				case 3:
					cell = csvNum(s.CIHigh)
				case 4:
					if s.Trials > 0 {
						cell = strconv.Itoa(s.Trials)
					}
				case 5:
					cell = csvNum(s.PDropEq6)
				case 6:
					cell = csvNum(s.PDropLegacy)
				case 7:
					cell = csvNum(s.RAP)
				}
				rec = append(rec, cell)
			}
		}
		recs = append(recs, rec)
	}
	if err := writeCSV(&buf, recs); err != nil {
		return nil, fmt.Errorf("table II: %w", err)
	}
	return buf.Bytes(), nil
}

// TableIIOptions tunes the Markdown Table II.
type TableIIOptions struct {
	// PDrop selects which P_drop is printed: metrics.BERMatched (Eq. 6,
	// default) or metrics.LegacyTable (the paper's definition).
	PDrop metrics.PDropMode
	// ShowCI appends the confidence interval to each vulnerability cell.
	ShowCI bool
}

// TableIIMarkdown renders Table II in the paper's layout: Model, Type,
// Memory Utilization, Execution Time (%), Vulnerability per BER and P_drop per
// BER, preceded by a provenance header block. Every number but the memory (an
// exact count) has 3 significant digits (see FormatNumber); a negative vulnerability or
// P_drop (noise) is marked † and explained below the table.
func TableIIMarkdown(prov Provenance, rows []Row, opts TableIIOptions) ([]byte, error) {
	if opts.PDrop != metrics.BERMatched && opts.PDrop != metrics.LegacyTable {
		return nil, fmt.Errorf("table II markdown: unknown P_drop mode %v", opts.PDrop)
	}
	bers := unionBERs(rows)
	var buf bytes.Buffer
	mdHeader(&buf, prov, "Table II (memory, time, vulnerability, P_drop)")
	hdr := []string{"Model", "Type", "Memory Utilization (bits)", "Execution Time (%)"}
	align := []string{"l", "l", "r", "r"}
	for _, b := range bers {
		hdr = append(hdr, "Vulnerability "+BERLabel(b))
		align = append(align, "r")
	}
	pdName := "P_drop (Eq. 6) "
	if opts.PDrop == metrics.LegacyTable {
		pdName = "P_drop (legacy) "
	}
	for _, b := range bers {
		hdr = append(hdr, pdName+BERLabel(b))
		align = append(align, "r")
	}
	var body [][]string
	negative := false
	for _, r := range rows {
		rec := []string{r.Model, PaperType(r.Variant), strconv.FormatInt(r.MemoryBits, 10), FormatNumber(r.ExecTimePct)}
		for _, b := range bers {
			s := statAt(r, b)
			cell := numMarked(s.VulMean)
			if opts.ShowCI && !math.IsNaN(s.CILow) && !math.IsNaN(s.CIHigh) {
				cell += " [" + FormatNumber(s.CILow) + ", " + FormatNumber(s.CIHigh) + "]"
			}
			negative = negative || s.VulMean < 0
			rec = append(rec, cell)
		}
		for _, b := range bers {
			s := statAt(r, b)
			p := s.PDropEq6
			if opts.PDrop == metrics.LegacyTable {
				p = s.PDropLegacy
			}
			negative = negative || p < 0
			rec = append(rec, numMarked(p))
		}
		body = append(body, rec)
	}
	mdTable(&buf, hdr, align, body)
	if negative {
		buf.WriteString("\n" + negFootnote + "\n")
	}
	return buf.Bytes(), nil
}

// Comparison is one of our numbers beside the paper's.
type Comparison struct {
	// Model and Variant identify the row: our row's label (Row.Model, e.g. "vgg11 (legacy)";
	// the paper's row is looked up by NormalizeModel of it) and the normalized variant.
	Model, Variant string
	// Quantity is one of "golden_pct", "memory_bits", "exec_time_pct",
	// "vulnerability_pp", "pdrop_eq6", "pdrop_legacy".
	Quantity string
	// BER is the bit-error rate, 0 for BER-independent quantities.
	BER float64
	// Ours and Paper are the two values (NaN when missing).
	Ours, Paper float64
	// Diff is Ours − Paper.
	Diff float64
	// RelDiffPct is 100·Diff/Paper (NaN when Paper is 0 or missing).
	RelDiffPct float64
	// PaperInCI is "yes"/"no" when our confidence interval is known
	// (vulnerability only), else "".
	PaperInCI string
}

// Compare puts our rows beside the embedded paper tables. P_drop is compared
// in the given mode: metrics.LegacyTable against the paper's printed cells (which
// follow that definition), metrics.BERMatched (Eq. 6) against Eq. 6 recomputed
// from the paper's vulnerabilities and memory with c = metrics.DefaultC, the c the
// paper's cells imply (our rows should use it too for the values to compare).
func Compare(ours []Row, mode metrics.PDropMode) ([]Comparison, error) {
	t1, t2, err := paperTables()
	if err != nil {
		return nil, err
	}
	return CompareWith(ours, t1, t2, mode)
}

// CompareWith is Compare against the given paper tables.
func CompareWith(ours []Row, t1 []TableIRow, t2 []TableIIRow, mode metrics.PDropMode) ([]Comparison, error) {
	if mode != metrics.BERMatched && mode != metrics.LegacyTable {
		return nil, fmt.Errorf("compare: unknown P_drop mode %v", mode)
	}
	var out []Comparison
	add := func(c Comparison) {
		c.Diff = c.Ours - c.Paper
		c.RelDiffPct = nan
		if c.Paper != 0 && !math.IsNaN(c.Paper) {
			c.RelDiffPct = 100 * c.Diff / c.Paper
		}
		out = append(out, c)
	}
	for _, r := range ours {
		v, err := metrics.ParseVariant(r.Variant)
		if err != nil {
			return nil, fmt.Errorf("compare, %s: %w", r.Model, err)
		}
		model, paperModel := r.Model, NormalizeModel(r.Model)
		paperGolden := nan
		for _, t := range t1 {
			if t.Width == v.Width {
				if g, ok := t.Accuracy[paperModel]; ok {
					paperGolden = g
				}
			}
		}
		add(Comparison{Model: model, Variant: v.String(), Quantity: "golden_pct", Ours: r.Golden, Paper: paperGolden})
		var p *TableIIRow
		for i := range t2 {
			if NormalizeModel(t2[i].Model) == paperModel && t2[i].Variant == v.String() {
				p = &t2[i]
			}
		}
		if p == nil {
			continue
		}
		add(Comparison{Model: model, Variant: v.String(), Quantity: "memory_bits", Ours: float64(r.MemoryBits), Paper: float64(p.MemoryBits)})
		add(Comparison{Model: model, Variant: v.String(), Quantity: "exec_time_pct", Ours: r.ExecTimePct, Paper: p.ExecTimePct})
		for k, b := range p.BERs {
			s := statAt(r, b)
			c := Comparison{Model: model, Variant: v.String(), Quantity: "vulnerability_pp", BER: b, Ours: s.VulMean, Paper: p.Vulnerability[k]}
			if !math.IsNaN(s.CILow) && !math.IsNaN(s.CIHigh) {
				c.PaperInCI = "no"
				if c.Paper >= s.CILow && c.Paper <= s.CIHigh {
					c.PaperInCI = "yes"
				}
			}
			add(c)
		}
		for k, b := range p.BERs {
			s := statAt(r, b)
			c := Comparison{Model: model, Variant: v.String(), Quantity: "pdrop_legacy", BER: b, Ours: s.PDropLegacy, Paper: p.PDrop[k]}
			if mode == metrics.BERMatched {
				// The paper's cells are the table definition (the 3e-4 drop at every BER): set
				// our Eq. 6 beside Eq. 6 recomputed from the paper's own vulnerability at b.
				eq6, err := metrics.PDropModel{C: metrics.DefaultC}.Eq6(float64(p.MemoryBits), b, p.Vulnerability[k])
				if err != nil {
					return nil, fmt.Errorf("compare %s %s: %w", model, v, err)
				}
				c.Quantity, c.Ours, c.Paper = "pdrop_eq6", s.PDropEq6, eq6
			}
			add(c)
		}
	}
	return out, nil
}

// ComparisonCSV renders comparisons as CSV
// (model,variant,quantity,ber,ours,paper,diff,rel_diff_pct,paper_in_ci).
func ComparisonCSV(prov Provenance, cmp []Comparison) ([]byte, error) {
	var buf bytes.Buffer
	csvHeader(&buf, prov, "Comparison with the paper (ours − paper)")
	recs := [][]string{{"model", "variant", "quantity", "ber", "ours", "paper", "diff", "rel_diff_pct", "paper_in_ci"}}
	for _, c := range cmp {
		ber := ""
		if c.BER != 0 {
			ber = BERLabel(c.BER)
		}
		recs = append(recs, []string{c.Model, c.Variant, c.Quantity, ber, csvNum(c.Ours), csvNum(c.Paper), csvNum(c.Diff), csvNum(c.RelDiffPct), c.PaperInCI})
	}
	if err := writeCSV(&buf, recs); err != nil {
		return nil, fmt.Errorf("comparison: %w", err)
	}
	return buf.Bytes(), nil
}

// ComparisonMarkdown renders comparisons as Markdown: memory in whole bits,
// accuracies with 2 decimals (as Table I), every other number with 3
// significant digits (see FormatNumber); a negative value of
// ours (a vulnerability or P_drop below 0: noise) is marked † and explained
// below the table.
func ComparisonMarkdown(prov Provenance, cmp []Comparison) ([]byte, error) {
	var buf bytes.Buffer
	mdHeader(&buf, prov, "Comparison with the paper (ours − paper)")
	var body [][]string
	negative := false
	for _, c := range cmp {
		f, ours := FormatNumber, FormatNumber
		switch {
		case c.Quantity == "memory_bits":
			f = func(x float64) string {
				if math.IsNaN(x) {
					return "–"
				}
				return strconv.FormatFloat(x, 'f', 0, 64)
			}
			ours = f
		case c.Quantity == "golden_pct":
			f, ours = formatAccuracy, formatAccuracy
		case c.Quantity == "vulnerability_pp" || strings.HasPrefix(c.Quantity, "pdrop"):
			ours = numMarked
			negative = negative || c.Ours < 0
		}
		ber := ""
		if c.BER != 0 {
			ber = BERLabel(c.BER)
		}
		rel := "–"
		if !math.IsNaN(c.RelDiffPct) {
			rel = FormatNumber(c.RelDiffPct) + " %"
		}
		in := c.PaperInCI
		if in == "" {
			in = "–"
		}
		body = append(body, []string{c.Model, PaperType(c.Variant), c.Quantity, ber, ours(c.Ours), f(c.Paper), f(c.Diff), rel, in})
	}
	mdTable(&buf, []string{"Model", "Type", "Quantity", "BER", "Ours", "Paper", "Diff", "Diff %", "Paper in our CI"},
		[]string{"l", "l", "l", "l", "r", "r", "r", "r", "l"}, body)
	if negative {
		buf.WriteString("\n" + negFootnote + "\n")
	}
	return buf.Bytes(), nil
}

// tableIBody is Table I's rows: one per width, the golden accuracy of each model formatted by
// format (NaN where a model lacks the width).
func tableIBody(models []string, widths []int, acc map[string]map[int]float64, format func(float64) string) [][]string {
	var body [][]string
	for _, w := range widths {
		rec := []string{fmt.Sprintf("%d-bit", w)}
		for _, m := range models {
			x, ok := acc[m][w]
			if !ok {
				x = nan
			}
			rec = append(rec, format(x))
		}
		body = append(body, rec)
	}
	return body
}

// formatSpecial is how every number format of the reports writes the values that have no
// digits to show: "0", NaN as "–", infinities as "∞" and "-∞".
func formatSpecial(x float64) (string, bool) {
	switch {
	case math.IsNaN(x):
		return "–", true
	case math.IsInf(x, 1):
		return "∞", true
	case math.IsInf(x, -1):
		return "-∞", true
	case x == 0:
		return "0", true
	}
	return "", false
}
