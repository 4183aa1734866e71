package nbkit

// The paper's claims (docs/method.md §10.9), answered in words from the runs: one line per
// network of the paper, saying plainly when a network has no results yet.

import (
	"fmt"
	"math"
	"strings"

	"github.com/fortune-go/fortune/fortune/metrics"
	"github.com/fortune-go/fortune/fortune/report"
)

// ourModel is the registry name of each of the paper's networks.
var ourModel = map[string]string{"VGG11": "vgg11", "ResNet18": "resnet18", "AlexNet": "alexnet", "Inception": "inception_v3"}

// paperRow returns the paper's Table II row of a network and variant, with RAP (Eq. 7) and the
// Eq. 6 P_drop recomputed (report.PaperRows).
func paperRow(network, variant string) (report.Row, bool) {
	for _, r := range Must(report.PaperRows(metrics.PDropModel{C: metrics.DefaultC})) {
		if r.Model == network && r.Variant == variant {
			return r, true
		}
	}
	return report.Row{}, false
}

// perNetwork writes one bullet per paper network: "**VGG11** " + line(network, its runs), or
// that it has no results yet.
func perNetwork(runs []PaperRun, line func(network string, runs []PaperRun) string) string {
	var b strings.Builder
	for _, n := range report.PaperModels {
		var rs []PaperRun
		for _, r := range runs {
			if r.PaperNetwork() == n {
				rs = append(rs, r)
			}
		}
		fmt.Fprintf(&b, "- **%s** %s", n, line(n, rs))
		if len(rs) == 0 {
			fmt.Fprintf(&b, " — no results of ours yet (no %s.jsonl in %s).", ourModel[n], strings.TrimSuffix(PaperResultsGlob, "*/*.jsonl")+"PROTOCOL/")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// inside says whether the paper's value lies in our interval.
func inside(paper, lo, hi float64) string {
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsNaN(paper) {
		return ""
	}
	if paper >= lo && paper <= hi {
		return "paper inside"
	}
	return "paper outside"
}

// VulnerabilityClaim answers "the network's <variant> vulnerability at BER ber is X pp": per
// network of the paper its Table II value, then ours for each protocol with the 95 % interval
// and whether the paper's value lies inside it.
func VulnerabilityClaim(runs []PaperRun, variant string, ber float64) string {
	return perNetwork(runs, func(n string, rs []PaperRun) string {
		s := fmt.Sprintf("%s at BER %s: paper ", report.PaperType(variant), report.PowerLabel(ber))
		if pr, ok := paperRow(n, variant); ok {
			st, _ := pr.At(ber)
			s += paperNum(st.VulMean) + " pp"
		} else {
			s += "has no " + report.PaperType(variant) + " row"
		}
		var ours []string
		for _, r := range rs {
			row, ok := r.Row(variant)
			st, ok2 := row.At(ber)
			if !ok || !ok2 {
				ours = append(ours, fmt.Sprintf("not measured (%s)", r.Protocol))
				continue
			}
			note := r.Protocol
			if pr, ok := paperRow(n, variant); ok {
				p, _ := pr.At(ber)
				if in := inside(p.VulMean, st.CILow, st.CIHigh); in != "" {
					note += ": " + in
				}
			}
			ours = append(ours, fmt.Sprintf("%s pp (%s)", interval(st.VulMean, st.CILow, st.CIHigh), note))
		}
		if len(ours) > 0 {
			s += "; ours " + strings.Join(ours, ", ") + "."
		}
		return s
	})
}

// pct writes a relative change in %, signed, 3 significant digits: "−55.8 %".
func pct(x float64) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return num(x)
	}
	s := num(x)
	if x > 0 {
		s = "+" + s
	}
	return strings.Replace(s, "-", "−", 1) + " %"
}

// ChangeClaim answers "<variant> has N % lower vulnerability than <base> at BER ber": per network
// of the paper the change its Table II implies, then ours for each protocol with the 95 %
// interval of report.RelativeChange (Fieller) and whether the paper's change lies inside it.
func ChangeClaim(runs []PaperRun, variant, base string, ber float64) string {
	return perNetwork(runs, func(n string, rs []PaperRun) string {
		s := fmt.Sprintf("%s against %s at BER %s: paper ", report.PaperType(variant), report.PaperType(base), report.PowerLabel(ber))
		paperPct := math.NaN()
		pv, ok1 := paperRow(n, variant)
		pb, ok2 := paperRow(n, base)
		switch {
		case ok1 && ok2:
			a, _ := pv.At(ber)
			b, _ := pb.At(ber)
			paperPct = 100 * (a.VulMean/b.VulMean - 1)
			s += fmt.Sprintf("%s (%s against %s pp)", pct(paperPct), paperNum(a.VulMean), paperNum(b.VulMean))
		case !ok1:
			s += "has no " + report.PaperType(variant) + " row"
		default:
			s += "has no " + report.PaperType(base) + " row"
		}
		var ours []string
		for _, r := range rs {
			rv, ok1 := r.Row(variant)
			rb, ok2 := r.Row(base)
			a, ok3 := rv.At(ber)
			b, ok4 := rb.At(ber)
			if !ok1 || !ok2 || !ok3 || !ok4 {
				ours = append(ours, fmt.Sprintf("not measured (%s)", r.Protocol))
				continue
			}
			c, err := report.RelativeChange(a, b, 0)
			if err != nil {
				ours = append(ours, fmt.Sprintf("%s (%s: %v)", pct(100*(a.VulMean/b.VulMean-1)), r.Protocol, err))
				continue
			}
			detail := fmt.Sprintf("%s against %s pp", num(a.VulMean), num(b.VulMean))
			if !c.Bounded {
				ours = append(ours, fmt.Sprintf("%s, interval unbounded (%s: %s; the %s drop is not distinguishable from 0)",
					pct(c.Pct), r.Protocol, detail, report.PaperType(base)))
				continue
			}
			note := r.Protocol + ": " + detail
			if in := inside(paperPct, c.Lo, c.Hi); in != "" {
				note += "; " + in
			}
			ours = append(ours, fmt.Sprintf("%s [%s, %s] (%s)", pct(c.Pct), pct(c.Lo), pct(c.Hi), note))
		}
		if len(ours) > 0 {
			s += "; ours " + strings.Join(ours, ", ") + "."
		}
		return s
	})
}

// protectedVariants are the protected variants of Table II.
var protectedVariants = []string{"P-5", "P-4", "P-3"}

// MemoryTimeClaim answers the paper's "37.5 % memory reduction" (P-3 against 8-bit) and "below 3 %
// execution-time increase" (P-w against 8-bit): per network of the paper its Table II values,
// then ours for each protocol.
func MemoryTimeClaim(runs []PaperRun) string {
	change := func(x, base float64) string {
		if math.IsNaN(x) || math.IsNaN(base) || base == 0 {
			return "–"
		}
		return pct(100 * (x/base - 1))
	}
	times := func(rowOf func(string) (report.Row, bool)) string {
		var out []string
		for _, v := range protectedVariants {
			r, ok := rowOf(v)
			t := math.NaN()
			if ok {
				t = r.ExecTimePct
			}
			out = append(out, change(t, 100))
		}
		return strings.Join(out, "/")
	}
	memory := func(rowOf func(string) (report.Row, bool)) string {
		p3, ok1 := rowOf("P-3")
		b8, ok2 := rowOf("8-bit")
		switch {
		case !ok1 && !ok2:
			return "– (no P-3 or 8-bit row)"
		case !ok1:
			return "– (no P-3 row)"
		case !ok2:
			return "– (no 8-bit row)"
		}
		return change(float64(p3.MemoryBits), float64(b8.MemoryBits))
	}
	return perNetwork(runs, func(n string, rs []PaperRun) string {
		paperOf := func(v string) (report.Row, bool) { return paperRow(n, v) }
		s := fmt.Sprintf("paper: memory of P-3 %s, execution time of P-5/P-4/P-3 %s", memory(paperOf), times(paperOf))
		for _, r := range rs {
			s += fmt.Sprintf("; ours (%s): memory %s, time %s", r.Protocol, memory(r.Row), times(r.Row))
		}
		if len(rs) > 0 {
			s += "."
		}
		return s
	})
}

// RAPClaim answers "except for VGG11 at the highest BER, all other networks demonstrate smaller
// RAP" (protected against 8-bit, Eq. 7): per network of the paper, how many (P-w, BER) cells have
// a RAP below the 8-bit one at the same BER, in the paper's Table II (report.PaperRows) and in
// ours, and which do not.
func RAPClaim(runs []PaperRun) string {
	count := func(rowOf func(string) (report.Row, bool)) string {
		b8, ok := rowOf("8-bit")
		if !ok {
			return "no 8-bit row"
		}
		smaller, total := 0, 0
		var not []string
		for _, v := range protectedVariants {
			r, ok := rowOf(v)
			if !ok {
				continue
			}
			for _, b := range report.PaperBERs {
				s, ok1 := r.At(b)
				s8, ok2 := b8.At(b)
				if !ok1 || !ok2 || math.IsNaN(s.RAP) || math.IsNaN(s8.RAP) {
					continue
				}
				total++
				if s.RAP < s8.RAP {
					smaller++
				} else {
					not = append(not, v+" at "+report.PowerLabel(b))
				}
			}
		}
		if total == 0 {
			return "no RAP"
		}
		s := fmt.Sprintf("%d of %d smaller", smaller, total)
		if len(not) > 4 {
			not = append(not[:3], fmt.Sprintf("%d more", len(not)-3))
		}
		if len(not) > 0 {
			s += " (not: " + strings.Join(not, ", ") + ")"
		}
		return s
	}
	return perNetwork(runs, func(n string, rs []PaperRun) string {
		s := "P-w cells with a RAP below 8-bit's at the same BER: paper " + count(func(v string) (report.Row, bool) { return paperRow(n, v) })
		for _, r := range rs {
			s += fmt.Sprintf("; ours (%s) %s", r.Protocol, count(r.Row))
		}
		if len(rs) > 0 {
			s += "."
		}
		return s
	})
}

// ProtocolSummary sets the protocols of each network side by side in words: per protocol the
// largest mean drop of the paper's variants (8-bit, P-w) and where it is, and in how many of
// those (variant, BER) cells the 95 % intervals of the first two protocols overlap.
func ProtocolSummary(runs []PaperRun) string {
	var b strings.Builder
	protocols := Protocols(runs)
	for _, n := range Networks(runs) {
		var parts []string
		for _, p := range protocols {
			r, ok := find(runs, n, p)
			if !ok {
				parts = append(parts, p+": no run")
				continue
			}
			best, where := math.Inf(-1), ""
			for _, v := range paperVariants {
				row, _ := r.Row(v)
				for _, s := range row.PerBER {
					if s.VulMean > best {
						best, where = s.VulMean, fmt.Sprintf("%s at %s", report.PaperType(v), report.PowerLabel(s.BER))
					}
				}
			}
			if where == "" {
				parts = append(parts, p+": no measured cell")
				continue
			}
			parts = append(parts, fmt.Sprintf("%s: largest drop %s pp (%s)", p, num(best), where))
		}
		s := fmt.Sprintf("- **%s** — %s", n, strings.Join(parts, "; "))
		if len(protocols) >= 2 {
			a, okA := find(runs, n, protocols[0])
			c, okC := find(runs, n, protocols[1])
			overlap, total := 0, 0
			for _, v := range paperVariants {
				ra, _ := a.Row(v)
				rc, _ := c.Row(v)
				for _, sa := range ra.PerBER {
					sc, ok := rc.At(sa.BER)
					if !okA || !okC || !ok || math.IsNaN(sa.CILow) || math.IsNaN(sc.CILow) {
						continue
					}
					total++
					if sa.CILow <= sc.CIHigh && sc.CILow <= sa.CIHigh {
						overlap++
					}
				}
			}
			if total > 0 {
				s += fmt.Sprintf("; the %s and %s intervals overlap in %d of %d (variant, BER) cells", protocols[0], protocols[1], overlap, total)
			}
		}
		b.WriteString(s + ".\n")
	}
	return b.String()
}
