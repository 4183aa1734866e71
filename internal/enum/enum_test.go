package enum

import (
	"encoding/json"
	"testing"
)

type color int

var colors = New[color]("color", "enum: unknown color", "red", "green", "blue")

func (c color) String() string                { return colors.String(c) }
func (c color) MarshalText() ([]byte, error)  { return colors.MarshalText(c) }
func (c *color) UnmarshalText(b []byte) error { return colors.UnmarshalText(c, b) }

func TestTable(t *testing.T) {
	for _, c := range colors.Values() {
		got, err := colors.Parse(c.String())
		if err != nil || got != c {
			t.Errorf("Parse(%q) = %v, %v, want %v", c.String(), got, err, int(c))
		}
		b, err := json.Marshal(struct{ C color }{c})
		if err != nil {
			t.Fatal(err)
		}
		var back struct{ C color }
		if err := json.Unmarshal(b, &back); err != nil || back.C != c {
			t.Errorf("%s: JSON %s read back as %v, %v", c, b, back.C, err)
		}
	}
	if s := color(7).String(); s != "color(7)" {
		t.Errorf("String(7) = %q", s)
	}
	if _, err := json.Marshal(color(7)); err == nil {
		t.Error("marshalled a value outside the table")
	}
	_, err := colors.Parse("Red")
	if want := `enum: unknown color "Red" (want red, green or blue)`; err == nil || err.Error() != want {
		t.Errorf("Parse(Red): %v, want %s", err, want)
	}
	var c color
	if err := json.Unmarshal([]byte(`"purple"`), &c); err == nil {
		t.Error("unmarshalled an unknown name")
	}
	if got := New[color]("color", "x", "a", "b").want(); got != "a or b" {
		t.Errorf("want() = %q", got)
	}
}
