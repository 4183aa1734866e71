package graphargs

import (
	"slices"
	"strings"
	"testing"
)

func layout() *Layout {
	return new(Layout).One("words").One("seed").Group("scales", 2).Group("codes", 0).One("x")
}

// wantPanic runs f and checks that it panics with a message containing every part.
func wantPanic(t *testing.T, f func(), parts ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one with %q", parts)
		}
		err, ok := r.(error)
		if !ok {
			t.Fatalf("panic with %T %v, want an error (graph.Exec recovers only errors)", r, r)
		}
		msg := err.Error()
		for _, p := range parts {
			if !strings.Contains(msg, p) {
				t.Fatalf("panic %q, want it to contain %q", msg, p)
			}
		}
	}()
	f()
}

func TestRoundTrip(t *testing.T) {
	l := layout()
	if l.Len() != 5 {
		t.Fatalf("Len %d, want 5", l.Len())
	}
	if got, want := l.String(), "words, seed, scales[2], codes[0], x"; got != want {
		t.Fatalf("String %q, want %q", got, want)
	}
	a := Build[string](l).Set("x", "X").SetGroup("scales", []string{"s0", "s1"}).Set("seed", "S").Set("words", "W")
	a.SetGroup("codes", nil)
	list := a.List()
	if want := []string{"W", "S", "s0", "s1", "X"}; !slices.Equal(list, want) {
		t.Fatalf("List %q, want %q", list, want)
	}
	if as := a.Any(); len(as) != 5 || as[2] != "s0" {
		t.Fatalf("Any %v", as)
	}
	a.Set("x", "X2") // Set again: only that argument changes.
	if got := a.List(); got[4] != "X2" || got[0] != "W" {
		t.Fatalf("List after a second Set: %q", got)
	}
	in := Read(l, []int{0, 1, 2, 3, 4})
	if in.One("words") != 0 || in.One("seed") != 1 || in.One("x") != 4 ||
		!slices.Equal(in.Group("scales"), []int{2, 3}) || len(in.Group("codes")) != 0 {
		t.Fatal("Read gives the wrong inputs")
	}
	if g := in.Group("scales"); cap(g) != 2 {
		t.Fatalf("Group has capacity %d: appending to it would overwrite the next input", cap(g))
	}
}

func TestMistakes(t *testing.T) {
	l := layout()
	wantPanic(t, func() { Build[int](l).Set("bias", 1) }, `no argument "bias"`, "words, seed")
	wantPanic(t, func() { Read(l, make([]int, 5)).One("bias") }, `no argument "bias"`)
	wantPanic(t, func() { Read(l, make([]int, 5)).Group("seed") }, `"seed" is a single argument`)
	wantPanic(t, func() { Read(l, make([]int, 5)).One("scales") }, `"scales" is a group`)
	wantPanic(t, func() { Build[int](l).SetGroup("scales", []int{1, 2, 3}) }, `3 values for group "scales" of 2`)
	wantPanic(t, func() { Read(l, make([]int, 6)) }, "6 inputs, want 5", "words, seed")
	wantPanic(t, func() { Read(l, make([]int, 4)) }, "4 inputs, want 5")
	wantPanic(t, func() {
		Build[int](l).Set("words", 0).Set("seed", 0).SetGroup("scales", []int{1, 2}).Set("x", 0).List()
	}, `argument "codes" not set`)
	wantPanic(t, func() { Build[int](l).Any() }, `argument "words" not set`)
	wantPanic(t, func() { Build[int](l).One("seed") }, `argument "seed" not set`)
	wantPanic(t, func() { new(Layout).One("a").Group("a", 1) }, `"a" declared twice`)
	wantPanic(t, func() { new(Layout).One("") }, "empty argument name")
	wantPanic(t, func() { new(Layout).Group("g", -1) }, `group "g" of -1`)
}
