// Package inject flips bits of stored weight words inside a GoMLX graph (docs/method.md §5).
//
// The memory is one flat uint8 vector holding the words of every injectable layer, in layer
// order; each word exposes its low W bits to faults, so the memory has n = N·W bits. A trial's
// faults are drawn inside the graph from a seed input with a counter-based generator
// (SplitMix64), so one compiled graph serves every trial, and the same seed gives the same
// faults on every backend and in the plain-Go reference.
//
// Placements:
//   - Distinct (default): F = ⌊BER·n⌋ different bit positions, uniform over all n bits (so a
//     layer receives faults in proportion to its size).
//   - WithReplacement: F independent uniform draws; a bit hit twice flips back.
//   - Legacy: the authors' placement: for each of F faults a layer uniformly among the layers,
//     then a word uniformly in that layer, then a bit uniformly in [0, W); with replacement.
//   - Bernoulli: every bit flips independently with probability BER.
//
// For the signed 8-bit baseline the authors modelled a bit-7 fault as a negation (−q, with
// −127 → 0); SignNegate reproduces it, SignXOR (default) flips the bit. A negation does not
// commute with the flips of the same word's other bits, so under SignNegate the faults of a
// word hit on bit 7 are applied one after another in draw order, as the authors' loop did
// (docs/method.md §5.5: faults accumulate in order); the other words only receive flips, whose
// order does not matter. Bernoulli faults have no draw order: each word's flips are applied in
// bit order (bits 0…6, then the bit-7 negation).
package inject

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.

	"github.com/fortune-go/fortune/fortune/splitmix"
	"github.com/fortune-go/fortune/internal/enum"
)

// Placement says where a trial's faults land.
type Placement int

const (
	// Distinct places ⌊BER·n⌋ faults on distinct bits, uniformly over all stored bits.
	Distinct Placement = iota
	// WithReplacement draws ⌊BER·n⌋ bit positions independently; double hits cancel.
	WithReplacement
	// Legacy is the authors' layer-uniform placement, with replacement.
	Legacy
	// Bernoulli flips each stored bit independently with probability BER.
	Bernoulli
)

// placements names the placements, in value order: the command line's and the results
// header's names.
var placements = enum.New[Placement]("Placement", "inject: unknown placement", "distinct", "replacement", "legacy", "bernoulli")

// String returns the placement's name as used on the command line.
func (p Placement) String() string { return placements.String(p) }

// ParsePlacement reads a placement name.
func ParsePlacement(s string) (Placement, error) { return placements.Parse(s) }

// MarshalText returns the placement's name (so JSON holds "distinct", not 0).
func (p Placement) MarshalText() ([]byte, error) { return placements.MarshalText(p) }

// UnmarshalText reads a placement name, as ParsePlacement.
func (p *Placement) UnmarshalText(b []byte) error { return placements.UnmarshalText(p, b) }

// SignFault is how a fault on bit 7 of a signed 8-bit word acts.
type SignFault int

const (
	// SignXOR flips bit 7 of the two's-complement byte.
	SignXOR SignFault = iota
	// SignNegate negates the int8 value as the authors' code did (−127 → 0, 0 stays 0).
	SignNegate
)

// signFaults names the sign-fault models, in value order: "xor" and "negate" (the command
// line's --sign).
var signFaults = enum.New[SignFault]("SignFault", "inject: unknown sign fault", "xor", "negate")

// String returns the sign-fault model's name: "xor" or "negate".
func (s SignFault) String() string { return signFaults.String(s) }

// ParseSignFault reads "xor" or "negate".
func ParseSignFault(s string) (SignFault, error) { return signFaults.Parse(s) }

// MarshalText returns the sign-fault model's name.
func (s SignFault) MarshalText() ([]byte, error) { return signFaults.MarshalText(s) }

// UnmarshalText reads a sign-fault model's name, as ParseSignFault.
func (s *SignFault) UnmarshalText(b []byte) error { return signFaults.UnmarshalText(s, b) }

// Plan describes the memory a graph injects into and how.
type Plan struct {
	// LayerWords is the number of words of each layer, in memory order.
	LayerWords []int
	// LayerOffsets optionally gives each layer's first word in memory, for layer lists that
	// name a layer twice (the authors' Inception 8-bit list, used by Legacy placement); nil
	// means the layers lie back to back.
	LayerOffsets []int
	// MemoryWords is N, the words in memory; 0 means the sum of LayerWords.
	MemoryWords int
	// StoredBits is W, the bits per word exposed to faults (1…8).
	StoredBits int
	// Placement chooses where faults land.
	Placement Placement
	// Sign chooses the bit-7 fault model; SignNegate needs StoredBits = 8.
	Sign SignFault
	// Capacity is the number of candidate draws the graph makes per trial, K: at least the
	// largest F the plan is used with (Distinct needs a margin for repeated draws; see
	// CapacityFor). Unused by Bernoulli.
	Capacity int
}

// Words returns N, the number of words in memory.
func (p Plan) Words() int {
	if p.MemoryWords > 0 {
		return p.MemoryWords
	}
	return p.listedWords()
}

func (p Plan) listedWords() int {
	n := 0
	for _, w := range p.LayerWords {
		n += w
	}
	return n
}

// Offsets returns each layer's first word in memory: LayerOffsets, or back to back.
func (p Plan) Offsets() []int {
	if p.LayerOffsets != nil {
		return p.LayerOffsets
	}
	off := make([]int, len(p.LayerWords))
	at := 0
	for i, w := range p.LayerWords {
		off[i], at = at, at+w
	}
	return off
}

// Bits returns n = N·W, the number of stored bits exposed to faults, from which F = ⌊BER·n⌋.
// Legacy placement counts the listed layers (a layer listed twice counts twice, as the
// authors' code did).
func (p Plan) Bits() int64 {
	if p.Placement == Legacy {
		return int64(p.listedWords()) * int64(p.StoredBits)
	}
	return int64(p.Words()) * int64(p.StoredBits)
}

// Validate reports an impossible plan.
func (p Plan) Validate() error {
	if p.StoredBits < 1 || p.StoredBits > 8 {
		return fmt.Errorf("inject: stored bits %d out of range [1, 8]", p.StoredBits)
	}
	if len(p.LayerWords) == 0 || p.Words() == 0 {
		return fmt.Errorf("inject: empty memory")
	}
	if p.LayerOffsets != nil && len(p.LayerOffsets) != len(p.LayerWords) {
		return fmt.Errorf("inject: %d layer offsets for %d layers", len(p.LayerOffsets), len(p.LayerWords))
	}
	for i, w := range p.LayerWords {
		if w <= 0 {
			return fmt.Errorf("inject: layer %d has %d words", i, w)
		}
		if off := p.Offsets()[i]; off < 0 || off+w > p.Words() {
			return fmt.Errorf("inject: layer %d (words %d…%d) lies outside the memory of %d words", i, off, off+w, p.Words())
		}
	}
	if p.LayerOffsets == nil && p.MemoryWords > 0 && p.MemoryWords != p.listedWords() {
		return fmt.Errorf("inject: memory of %d words but layers total %d", p.MemoryWords, p.listedWords())
	}
	if p.Words() >= math.MaxInt32 {
		return fmt.Errorf("inject: %d words exceed the int32 index range", p.Words())
	}
	if p.Sign == SignNegate && p.StoredBits != 8 {
		return fmt.Errorf("inject: sign negation needs 8-bit signed words, have %d stored bits", p.StoredBits)
	}
	if p.Placement != Bernoulli && (p.Capacity < 1 || p.Capacity >= 1<<24) {
		return fmt.Errorf("inject: capacity %d out of range [1, 2^24)", p.Capacity)
	}
	return nil
}

// Count returns F = ⌊BER·n⌋, the faults of one trial for the counted placements, after
// checking that BER is in (0, 1].
func Count(ber float64, bits int64) (int, error) {
	if !(ber > 0 && ber <= 1) {
		return 0, fmt.Errorf("inject: bit error rate %g out of range (0, 1]", ber)
	}
	return int(ber * float64(bits)), nil
}

// CapacityFor returns a candidate count K for f faults among n bits: f itself for placements
// with replacement, and for Distinct enough extra draws that fewer than f distinct positions
// among K has probability below about 1e-12 (a shortfall is reported, never hidden).
func CapacityFor(p Placement, f int, n int64) int {
	if p != Distinct {
		return max(f, 1)
	}
	k := float64(f)
	for range 50 { // Fixed point: expected repeats among k draws ≈ k²/(2n) (at most k).
		dup := math.Min(k*k/(2*float64(n)), k)
		next := float64(f) + dup + 8*math.Sqrt(dup) + 32
		if math.Abs(next-k) < 1 {
			break
		}
		k = next
	}
	return int(math.Ceil(k))
}

// Stats indexes the statistics vector Inject returns.
const (
	// StatSites is the number of distinct bit positions hit (after cancellations for placements
	// with replacement: positions hit an odd number of times, plus negated sign bits).
	StatSites = iota
	// StatShortfall is how many of the F faults could not be placed (capacity too small); a
	// campaign treats a non-zero value as an error.
	StatShortfall
	numStats
)

// Inject returns the memory words after one trial's faults, and a statistics vector (int32,
// indexed by StatSites, StatShortfall). words is the flat uint8 memory (N), seed a uint64
// scalar, ber a float64 scalar.
func Inject(words, seed, ber *Node, p Plan) (faulty, stats *Node) {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	if words.Rank() != 1 || words.Shape().Dimensions[0] != p.Words() || words.DType() != dtypes.Uint8 {
		panic(fmt.Errorf("inject: words must be uint8[%d], got %s", p.Words(), words.Shape()))
	}
	if p.Placement == Bernoulli {
		return bernoulli(words, seed, ber, p)
	}
	s := sitesOf(seed, ber, p)
	return s.apply(words, p)
}

// sites is a list of K candidate fault sites: a bit position, its hit count and a validity mask.
type sites struct {
	pos, count *Node // uint64[K], int32[K]
	valid      *Node // bool[K]
	// fault marks the draws that are faults, in draw order (bool[K]): for placements with
	// replacement every one of the first F draws, a repeated position included; for Distinct
	// the valid sites.
	fault     *Node
	shortfall *Node // int32 scalar
}

// faultCount computes F = ⌊BER·n⌋ in the graph, as int64 (exactly Count's arithmetic): one
// float64 multiplication, correctly rounded on every backend and with nothing added to it that
// could be fused, then a floor (docs/method.md §3.5).
func faultCount(ber *Node, n int64) *Node {
	return ConvertDType(Floor(MulScalar(ber, float64(n))), dtypes.Int64)
}

// dedupRounds bounds the hash-table rounds that find each draw's first occurrence; a draw still
// unresolved after them is reported as a shortfall (probability below 1e-8 per trial).
const dedupRounds = 8

func sitesOf(seed, ber *Node, p Plan) sites {
	g := seed.Graph()
	k := p.Capacity
	n := uint64(p.Bits())
	f := faultCount(ber, int64(n))
	iota64 := Iota(g, shapes.Make(dtypes.Uint64, k), 0)
	iota32 := Iota(g, shapes.Make(dtypes.Int32, k), 0)
	var draws *Node // uint64[K], positions in [0, n)
	if p.Placement == Legacy {
		draws = legacyDraws(seed, iota64, p)
	} else {
		draws = Rem(splitmix.AtNode(splitmix.StreamNode(seed, 0), iota64), u64(g, n))
	}
	active := Const(g, true)
	withReplacement := p.Placement != Distinct
	if withReplacement { // Only the first F draws are faults.
		active = LessThan(ConvertDType(iota64, dtypes.Int64), f)
	}
	active = BroadcastToDims(active, k)
	leader, unresolved := firstOccurrences(draws, active, iota32)
	first := LogicalAnd(active, Equal(leader, iota32))
	kInt := Scalar(g, dtypes.Int64, k)
	short := Add(MaxScalar(Sub(f, kInt), 0), ConvertDType(ReduceAllSum(ConvertDType(unresolved, dtypes.Int32)), dtypes.Int64))
	if !withReplacement {
		// The first F distinct positions in draw order.
		rank := prefixSum(ConvertDType(first, dtypes.Int64))
		valid := LogicalAnd(first, LessOrEqual(rank, f))
		placed := ReduceAllSum(ConvertDType(valid, dtypes.Int64))
		short = Add(short, MaxScalar(Sub(Sub(f, placed), short), 0))
		return sites{pos: draws, count: OnesLike(iota32), valid: valid, fault: valid, shortfall: ConvertDType(short, dtypes.Int32)}
	}
	// Hits per position, counted at its first occurrence.
	hit := LogicalAnd(active, GreaterOrEqual(leader, ZerosLike(leader)))
	to := ExpandAxes(Where(hit, leader, ZerosLike(leader)), -1)
	count := ScatterSum(ZerosLike(iota32), to, ConvertDType(hit, dtypes.Int32), false, false)
	return sites{pos: draws, count: count, valid: first, fault: active, shortfall: ConvertDType(short, dtypes.Int32)}
}

// firstOccurrences finds, for every active draw, the index of the first draw with the same
// position (its leader; −1 while unknown), without sorting: in each round the unresolved draws
// scatter their index into a hash table by position, the smallest index per bucket wins, and
// every unresolved draw whose position equals its bucket winner's is resolved. Equal positions
// always share a bucket, so a winner is always the first draw of its position; draws of other
// positions in the same bucket wait for a later round. unresolved marks draws left after
// dedupRounds rounds.
func firstOccurrences(draws, active, iota32 *Node) (leader, unresolved *Node) {
	g := draws.Graph()
	k := draws.Shape().Dimensions[0]
	logH := max(bitsLen(uint64(16*k)), 10) // Load factor at most 1/16.
	h := ConvertDType(BitwiseShiftRightLogical(Mul(draws, u64(g, 0x9E3779B97F4A7C15)), u64(g, uint64(64-logH))), dtypes.Int32)
	idx := ExpandAxes(h, -1)
	kN := Scalar(g, dtypes.Int32, k)
	leader = Neg(OnesLike(iota32))
	unresolved = active
	for range dedupRounds {
		table := BroadcastToDims(kN, 1<<logH)
		table = ScatterMin(table, idx, Where(unresolved, iota32, BroadcastToDims(kN, k)), false, false)
		win := Gather(table, idx)
		winPos := Gather(draws, ExpandAxes(MinScalar(win, float64(k-1)), -1))
		match := LogicalAnd(unresolved, LogicalAnd(LessThan(win, kN), Equal(winPos, draws)))
		leader = Where(match, win, leader)
		unresolved = LogicalAnd(unresolved, LogicalNot(match))
	}
	return leader, unresolved
}

// bitsLen is the number of bits needed to hold v.
func bitsLen(v uint64) int {
	n := 0
	for ; v > 0; v >>= 1 {
		n++
	}
	return n
}

// prefixSum is the inclusive cumulative sum of a vector in ⌈log2 K⌉ shifted additions
// (graph.CumSum is a full-width window sum, quadratic on the pure-Go backend).
func prefixSum(x *Node) *Node {
	k := x.Shape().Dimensions[0]
	for d := 1; d < k; d *= 2 {
		shifted := Concatenate([]*Node{Zeros(x.Graph(), shapes.Make(x.DType(), d)), Slice(x, AxisRange(0, k-d))}, 0)
		x = Add(x, shifted)
	}
	return x
}

// legacyDraws draws layer, word and bit as the authors' injector did and returns global bit
// positions.
func legacyDraws(seed, iota64 *Node, p Plan) *Node {
	g := seed.Graph()
	layers := len(p.LayerWords)
	sizes := make([]uint64, layers)
	offsets := make([]uint64, layers)
	for i, w := range p.LayerWords {
		sizes[i], offsets[i] = uint64(w), uint64(p.Offsets()[i])
	}
	l := Rem(splitmix.AtNode(splitmix.StreamNode(seed, 1), iota64), u64(g, uint64(layers)))
	li := ExpandAxes(ConvertDType(l, dtypes.Int32), -1)
	size := Gather(Const(g, sizes), li)
	offset := Gather(Const(g, offsets), li)
	idx := Rem(splitmix.AtNode(splitmix.StreamNode(seed, 2), iota64), size)
	bit := Rem(splitmix.AtNode(splitmix.StreamNode(seed, 3), iota64), u64(g, uint64(p.StoredBits)))
	return Add(Mul(Add(offset, idx), u64(g, uint64(p.StoredBits))), bit)
}

// bitValues is the uint8 table 1, 2, 4, …, 128 (gathered instead of shifting uint8s, whose
// shifts disagreed between backends on one probe).
func bitValues(g *Graph) *Node {
	return Const(g, []uint8{1, 2, 4, 8, 16, 32, 64, 128})
}

func (s sites) apply(words *Node, p Plan) (faulty, stats *Node) {
	g := words.Graph()
	w := u64(g, uint64(p.StoredBits))
	word := ConvertDType(Div(s.pos, w), dtypes.Int32)
	bit := ConvertDType(Rem(s.pos, w), dtypes.Int32)
	word = Where(s.valid, word, ZerosLike(word)) // Invalid sites point at word 0 with no effect.
	bit = Where(s.valid, bit, ZerosLike(bit))
	value := Gather(bitValues(g), ExpandAxes(bit, -1))
	odd := Equal(BitwiseAnd(s.count, OnesLike(s.count)), OnesLike(s.count))
	xor := LogicalAnd(s.valid, odd)
	hits := ConvertDType(xor, dtypes.Int32)
	update := Where(xor, value, ZerosLike(value)) // Distinct bits of a word: the sum is their XOR.
	short := s.shortfall
	if p.Sign == SignNegate {
		sign := LogicalAnd(s.valid, Equal(bit, Scalar(g, dtypes.Int32, 7)))
		// Sites count once per position: flipped (hit an odd number of times) or negated.
		hits = ConvertDType(LogicalOr(LogicalAnd(xor, LogicalNot(sign)), sign), dtypes.Int32)
		// A word hit on its sign bit takes its change from inOrder (at its first draw); the
		// others keep their flips.
		drawWord, change, ordered, missed := s.inOrder(words, p)
		update = Where(ordered, change, update)
		word = Where(ordered, drawWord, word)
		short = Add(short, missed)
	}
	mask := ScatterSum(Zeros(g, shapes.Make(dtypes.Uint8, p.Words())), ExpandAxes(word, -1), update, false, false)
	faulty = BitwiseXor(words, mask)
	stats = Stack([]*Node{ReduceAllSum(hits), short}, 0)
	return faulty, stats
}

// inOrder applies, in draw order, the faults of every word that has a fault on bit 7 (legacy
// negation): such a word's faults do not commute. It returns, per draw, the word it hit, and
// for the first draw of each such word (ordered) the XOR of the word's final and original
// values (update, uint8); missed counts the faults it could not order (reported as shortfall).
//
// The draws of one word are grouped by their first draw (its leader, found like repeated
// positions in firstOccurrences). Each round then applies, for every such word at once, its
// earliest fault not yet applied: a scatter-min over the leaders picks it, the word's current
// value (kept at its leader) is flipped or negated and written back. orderRounds rounds cover
// the most faults any word receives with probability at least 1 − 1e-12 per trial; a fault
// left over is counted in missed, never dropped silently.
func (s sites) inOrder(words *Node, p Plan) (word, update, ordered, missed *Node) {
	g := words.Graph()
	k := s.pos.Shape().Dimensions[0]
	w := u64(g, uint64(p.StoredBits))
	iota32 := Iota(g, shapes.Make(dtypes.Int32, k), 0)
	word64 := Div(s.pos, w)
	word = ConvertDType(word64, dtypes.Int32)
	bit := ConvertDType(Rem(s.pos, w), dtypes.Int32)
	isSign := Equal(bit, Scalar(g, dtypes.Int32, 7))
	leader, unresolved := firstOccurrences(word64, s.fault, iota32)
	found := GreaterOrEqual(leader, ZerosLike(leader))
	lead := ExpandAxes(Where(found, leader, ZerosLike(leader)), -1)
	zeros32 := ZerosLike(iota32)
	// Words with a sign fault, marked at their leader, then on each of their draws.
	signs := ScatterSum(zeros32, lead, ConvertDType(LogicalAnd(found, isSign), dtypes.Int32), false, false)
	ordered = LogicalAnd(found, GreaterThan(Gather(signs, lead), zeros32))
	isLeader := LogicalAnd(ordered, Equal(leader, iota32))
	pending := ordered

	value := Gather(bitValues(g), ExpandAxes(Where(isSign, zeros32, bit), -1))
	original := Gather(words, ExpandAxes(word, -1))
	state := original // Current value of each word, at its leader.
	zeros8 := ZerosLike(state)
	kN := Scalar(g, dtypes.Int32, k)
	for range orderRounds(p) {
		first := ScatterMin(BroadcastToDims(kN, k), lead, Where(pending, iota32, BroadcastToDims(kN, k)), false, false)
		apply := LogicalAnd(pending, Equal(Gather(first, lead), iota32))
		v := Gather(state, lead)
		next := Where(isSign, negateOnce(v), BitwiseXor(v, value))
		// One draw per word applies in a round, so the sum at each leader is that draw's change.
		state = BitwiseXor(state, ScatterSum(zeros8, lead, Where(apply, BitwiseXor(v, next), zeros8), false, false))
		pending = LogicalAnd(pending, LogicalNot(apply))
	}
	left := LogicalOr(pending, LogicalAnd(s.fault, unresolved))
	missed = ReduceAllSum(ConvertDType(left, dtypes.Int32))
	update = Where(isLeader, BitwiseXor(state, original), zeros8)
	return word, update, ordered, missed
}

// orderRounds is how many rounds inOrder runs: the smallest R such that, summed over all words,
// the probability that a word receives more than R of the plan's Capacity draws is below
// 1e-12 (a Poisson bound on each word's binomial load; Distinct puts at most W faults on a
// word).
func orderRounds(p Plan) int {
	k := float64(p.Capacity)
	type load struct {
		lambda float64
		words  int
	}
	var loads []load
	if p.Placement == Legacy {
		times := map[int]int{} // A layer listed twice is drawn twice as often.
		for _, off := range p.Offsets() {
			times[off]++
		}
		seen := map[int]bool{}
		for i, off := range p.Offsets() {
			if !seen[off] {
				seen[off] = true
				n := p.LayerWords[i]
				loads = append(loads, load{k * float64(times[off]) / float64(len(p.LayerWords)) / float64(n), n})
			}
		}
	} else {
		loads = []load{{k / float64(p.Words()), p.Words()}}
	}
	r := 1
	for ; r < p.Capacity; r++ {
		tail := 0.0
		for _, l := range loads {
			tail += float64(l.words) * poissonTail(l.lambda, r+1)
		}
		if tail < 1e-12 {
			break
		}
	}
	if p.Placement == Distinct {
		r = min(r, p.StoredBits)
	}
	return max(r, 1)
}

// poissonTail returns P(X ≥ k) for X ~ Poisson(lambda), summed from the k-th term up.
func poissonTail(lambda float64, k int) float64 {
	if lambda <= 0 {
		return 0
	}
	if float64(k) <= lambda {
		return 1 // At least about a half; 1 bounds it.
	}
	lg, _ := math.Lgamma(float64(k) + 1)
	term := math.Exp(-lambda + float64(k)*math.Log(lambda) - lg)
	sum := 0.0
	for j := k; term > 0 && term > sum*1e-17; j++ {
		sum += term
		term *= lambda / float64(j+1)
	}
	return sum
}

// negateOnce is the authors' bit-7 fault on int8 values stored as bytes: −q, except −127 → 0
// (and −(−128) wraps to −128).
func negateOnce(words *Node) *Node {
	g := words.Graph()
	q := ConvertDType(Bitcast(words, dtypes.Int8), dtypes.Int32)
	neg := Neg(q)
	neg = Where(Equal(neg, Scalar(g, dtypes.Int32, 128)), Scalar(g, dtypes.Int32, -128), neg)
	neg = Where(Equal(q, Scalar(g, dtypes.Int32, -127)), ZerosLike(q), neg)
	return Bitcast(ConvertDType(neg, dtypes.Int8), dtypes.Uint8)
}

// negateLegacy applies the authors' bit-7 fault c times to int8 values stored as bytes:
// f(q) = −q except f(−127) = 0. Closed form: c = 0 → q; c = 1 → f(q); c ≥ 2 → 0 for q = ±127,
// else q or −q by the parity of c (−128 stays −128).
func negateLegacy(words, c *Node) *Node {
	g := words.Graph()
	q := ConvertDType(Bitcast(words, dtypes.Int8), dtypes.Int32)
	neg := Neg(q)
	neg = Where(Equal(neg, Scalar(g, dtypes.Int32, 128)), Scalar(g, dtypes.Int32, -128), neg)
	is := func(v int) *Node { return Equal(q, Scalar(g, dtypes.Int32, v)) }
	once := Where(is(-127), ZerosLike(q), neg)
	odd := Equal(BitwiseAnd(c, OnesLike(c)), OnesLike(c))
	many := Where(LogicalOr(is(127), is(-127)), ZerosLike(q), Where(odd, neg, q))
	one := Equal(c, OnesLike(c))
	zero := Equal(c, ZerosLike(c))
	r := Where(zero, q, Where(one, once, many))
	return Bitcast(ConvertDType(r, dtypes.Int8), dtypes.Uint8)
}

// bernoulli flips each of the N·W bits with probability ber: bit b of word j flips when
// SplitMix64(stream 4, j·W+b)·2^−64 < ber, computed on the top 53 bits (exact in float64).
func bernoulli(words, seed, ber *Node, p Plan) (faulty, stats *Node) {
	g := words.Graph()
	n := p.Words()
	stream := splitmix.StreamNode(seed, 4)
	j := Iota(g, shapes.Make(dtypes.Uint64, n), 0)
	w := u64(g, uint64(p.StoredBits))
	mask := Zeros(g, shapes.Make(dtypes.Uint8, n))
	hits := Zeros(g, shapes.Make(dtypes.Int32, n))
	var sign *Node
	for b := range p.StoredBits {
		u := splitmix.AtNode(stream, Add(Mul(j, w), u64(g, uint64(b))))
		flip := LessThan(splitmix.UnitNode(u), ber)
		hits = Add(hits, ConvertDType(flip, dtypes.Int32))
		if p.Sign == SignNegate && b == 7 {
			sign = flip
			continue
		}
		mask = BitwiseOr(mask, Where(flip, Scalar(g, dtypes.Uint8, 1<<b), ZerosLike(mask)))
	}
	faulty = BitwiseXor(words, mask)
	if sign != nil {
		faulty = negateLegacy(faulty, ConvertDType(sign, dtypes.Int32))
	}
	return faulty, Stack([]*Node{ReduceAllSum(hits), ScalarZero(g, dtypes.Int32)}, 0)
}

// u64 is an exact uint64 constant (graph.Scalar goes through float64 and loses low bits).
func u64(g *Graph, v uint64) *Node { return Const(g, v) }
