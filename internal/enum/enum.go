// Package enum gives the project's small integer enums their names from one table each: String,
// Parse and the encoding.TextMarshaler / TextUnmarshaler pair (so an enum reads as its name in
// JSON, e.g. a results header's "placement": "distinct") all read the same list.
//
// An enum declares its values 0, 1, … with iota and a table naming them in that order:
//
//	var placements = enum.New[Placement]("Placement", "inject: unknown placement", "distinct", "replacement")
//
//	func (p Placement) String() string                 { return placements.String(p) }
//	func ParsePlacement(s string) (Placement, error)   { return placements.Parse(s) }
//	func (p Placement) MarshalText() ([]byte, error)   { return placements.MarshalText(p) }
//	func (p *Placement) UnmarshalText(b []byte) error  { return placements.UnmarshalText(p, b) }
package enum

import (
	"fmt"
	"strings"
)

// Table names the values 0, 1, … of an integer enum E.
type Table[E ~int] struct {
	typeName string   // Go type name, for the String of a value outside the table: "Placement(7)".
	unknown  string   // Start of Parse's error: "inject: unknown placement".
	names    []string // names[i] is value i's name.
}

// New returns the table of an enum whose values 0, 1, … are named names, in order; typeName
// is the Go type's name and unknown the start of the error for a name not in the table (the
// error goes on with the name quoted and the names accepted). Names must be distinct.
func New[E ~int](typeName, unknown string, names ...string) *Table[E] {
	for i, n := range names {
		for _, m := range names[:i] {
			if n == m {
				panic(fmt.Sprintf("enum %s: name %q twice", typeName, n))
			}
		}
	}
	return &Table[E]{typeName: typeName, unknown: unknown, names: names}
}

// Values returns the enum's values, in order.
func (t *Table[E]) Values() []E {
	out := make([]E, len(t.names))
	for i := range out {
		out[i] = E(i)
	}
	return out
}

// valid reports whether e is one of the table's values.
func (t *Table[E]) valid(e E) bool { return int(e) >= 0 && int(e) < len(t.names) }

// String returns e's name, or TypeName(n) for a value outside the table.
func (t *Table[E]) String(e E) string {
	if t.valid(e) {
		return t.names[e]
	}
	return fmt.Sprintf("%s(%d)", t.typeName, int(e))
}

// Parse returns the value named s (exactly, case included).
func (t *Table[E]) Parse(s string) (E, error) {
	for i, n := range t.names {
		if n == s {
			return E(i), nil
		}
	}
	return 0, fmt.Errorf("%s %q (want %s)", t.unknown, s, t.want())
}

// want lists the names: "a", "a or b", "a, b or c".
func (t *Table[E]) want() string {
	n := len(t.names)
	if n <= 1 {
		return strings.Join(t.names, "")
	}
	return strings.Join(t.names[:n-1], ", ") + " or " + t.names[n-1]
}

// MarshalText returns e's name; a value outside the table is an error (it would not read back).
func (t *Table[E]) MarshalText(e E) ([]byte, error) {
	if !t.valid(e) {
		return nil, fmt.Errorf("%s: no name for value %d", t.typeName, int(e))
	}
	return []byte(t.names[e]), nil
}

// UnmarshalText sets *e to the value named b (as Parse).
func (t *Table[E]) UnmarshalText(e *E, b []byte) error {
	v, err := t.Parse(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}
