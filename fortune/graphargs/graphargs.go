// Package graphargs names the arguments of a graph whose function takes its inputs as one slice
// (graph.NewExec with func(in []*graph.Node) …), so that no caller indexes that slice by hand.
//
// A Layout declares a graph's arguments once, in order: single arguments and groups of a known
// length (a model's weights, every layer's scales). The same layout then builds the list of
// values to call the graph with (Build, Args.Set, Args.List) and, inside the graph function,
// reads the input nodes back by name (Read, Args.One, Args.Group). Adding an argument is one
// line in the layout; every position follows.
//
// Mistakes are programming errors and panic with an error that names the argument: an unknown
// name, a single argument read as a group or the other way round, a group of the wrong length,
// an argument never set, an input list of the wrong length. The panic value is an error, so
// inside a graph function graph.Exec recovers it and its Call returns it.
package graphargs

import (
	"errors"
	"fmt"
	"strings"
)

// Layout is the ordered description of a graph's arguments. The zero value is an empty layout;
// One and Group append to it. Do not change a layout once Build or Read has used it.
type Layout struct {
	args  []arg
	index map[string]int // Name → position in args.
	size  int            // Number of graph inputs.
}

type arg struct {
	name  string
	start int // First graph input.
	n     int // Number of inputs: 1 for a single argument.
	group bool
}

// One appends a single argument called name and returns l.
func (l *Layout) One(name string) *Layout { return l.add(name, 1, false) }

// Group appends a group of n arguments (n ≥ 0) called name and returns l.
func (l *Layout) Group(name string, n int) *Layout {
	if n < 0 {
		panic(fmt.Errorf("graphargs: group %q of %d arguments", name, n))
	}
	return l.add(name, n, true)
}

func (l *Layout) add(name string, n int, group bool) *Layout {
	if name == "" {
		panic(errors.New("graphargs: empty argument name"))
	}
	if _, ok := l.index[name]; ok {
		panic(fmt.Errorf("graphargs: argument %q declared twice", name))
	}
	if l.index == nil {
		l.index = map[string]int{}
	}
	l.index[name] = len(l.args)
	l.args = append(l.args, arg{name: name, start: l.size, n: n, group: group})
	l.size += n
	return l
}

// Len returns the number of graph inputs: one per single argument, n per group of n.
func (l *Layout) Len() int { return l.size }

// String lists the arguments in order, a group as name[n]: "words, seed, scales[3]".
func (l *Layout) String() string {
	s := make([]string, len(l.args))
	for i, a := range l.args {
		s[i] = a.name
		if a.group {
			s[i] = fmt.Sprintf("%s[%d]", a.name, a.n)
		}
	}
	return strings.Join(s, ", ")
}

// lookup returns the argument called name, which must be a group if group is set and a single
// argument otherwise.
func (l *Layout) lookup(name string, group bool) arg {
	i, ok := l.index[name]
	if !ok {
		panic(fmt.Errorf("graphargs: no argument %q in layout (%s)", name, l))
	}
	a := l.args[i]
	if a.group != group {
		kind := "a single argument"
		if a.group {
			kind = "a group"
		}
		panic(fmt.Errorf("graphargs: argument %q is %s", name, kind))
	}
	return a
}

// Args holds the values of a layout's arguments, of type T: the tensors (or other values) a
// graph is called with, or the *graph.Node inputs of its graph function.
type Args[T any] struct {
	layout *Layout
	list   []T
	set    []bool // By argument.
}

// Build returns an empty argument list for l, to fill with Set and SetGroup and pass on with
// List or Any. It may be filled again (for instance only the arguments that change from one
// call to the next) and passed on again.
func Build[T any](l *Layout) *Args[T] {
	return &Args[T]{layout: l, list: make([]T, l.size), set: make([]bool, len(l.args))}
}

// Read returns the graph inputs in (as a graph function receives them) by name, for One and
// Group. It panics if in does not have l.Len() entries.
func Read[T any](l *Layout, in []T) *Args[T] {
	if len(in) != l.size {
		panic(fmt.Errorf("graphargs: %d inputs, want %d (layout %s)", len(in), l.size, l))
	}
	set := make([]bool, len(l.args))
	for i := range set {
		set[i] = true
	}
	return &Args[T]{layout: l, list: in, set: set}
}

// Set sets the single argument called name and returns a.
func (a *Args[T]) Set(name string, v T) *Args[T] {
	d := a.layout.lookup(name, false)
	a.list[d.start] = v
	a.set[a.layout.index[name]] = true
	return a
}

// SetGroup sets the group called name, which must have the group's length, and returns a.
func (a *Args[T]) SetGroup(name string, vs []T) *Args[T] {
	d := a.layout.lookup(name, true)
	if len(vs) != d.n {
		panic(fmt.Errorf("graphargs: %d values for group %q of %d", len(vs), name, d.n))
	}
	copy(a.list[d.start:], vs)
	a.set[a.layout.index[name]] = true
	return a
}

// List returns the arguments in the layout's order; it panics if one was never set. The slice
// is a's own: Set and SetGroup change it.
func (a *Args[T]) List() []T {
	for i, ok := range a.set {
		if !ok {
			panic(fmt.Errorf("graphargs: argument %q not set (layout %s)", a.layout.args[i].name, a.layout))
		}
	}
	return a.list
}

// Any returns List as a new []any, the form graph.Exec.Call takes.
func (a *Args[T]) Any() []any {
	list := a.List()
	out := make([]any, len(list))
	for i, v := range list {
		out[i] = v
	}
	return out
}

// One returns the single argument called name.
func (a *Args[T]) One(name string) T {
	a.check(name)
	return a.list[a.layout.lookup(name, false).start]
}

// Group returns the group called name (a sub-slice of the list, not a copy).
func (a *Args[T]) Group(name string) []T {
	a.check(name)
	d := a.layout.lookup(name, true)
	return a.list[d.start : d.start+d.n : d.start+d.n]
}

func (a *Args[T]) check(name string) {
	if i, ok := a.layout.index[name]; ok && !a.set[i] {
		panic(fmt.Errorf("graphargs: argument %q not set", name))
	}
}
