// Package enumtest checks an enum named by an enum.Table from its package's tests: its names
// round-trip through String, its Parse function and MarshalText/UnmarshalText, a value with no
// name does not marshal, and an unknown name is an error that quotes it.
package enumtest

import (
	"encoding"
	"fmt"
	"strings"
	"testing"
)

// Enum is an integer enum with a name per value.
type Enum interface {
	~int
	fmt.Stringer
	encoding.TextMarshaler
}

// Check runs the checks on values (all of the enum's values) and parse (its Parse function).
func Check[E Enum, P interface {
	*E
	encoding.TextUnmarshaler
}](t testing.TB, values []E, parse func(string) (E, error)) {
	t.Helper()
	for _, v := range values {
		b, err := v.MarshalText()
		var back E
		if err != nil || string(b) != v.String() || P(&back).UnmarshalText(b) != nil || back != v {
			t.Errorf("%T %v: MarshalText %q, %v; read back %v", v, v, b, err, back)
		}
		if p, err := parse(v.String()); err != nil || p != v {
			t.Errorf("Parse(%q) = %v, %v; want %v", v.String(), p, err, v)
		}
	}
	if v, err := E(len(values) + 90).MarshalText(); err == nil {
		t.Errorf("%T(%d) marshalled as %q, want an error", E(0), len(values)+90, v)
	}
	if _, err := parse("nonsense"); err == nil || !strings.Contains(err.Error(), "nonsense") {
		t.Errorf("Parse(nonsense): %v, want an error quoting the name", err)
	}
}
