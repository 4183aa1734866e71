package backend

import (
	"strings"
	"testing"
)

// TestGoConfig: "go" stands for GoConfig (the deadlock-free worker pool), a "go:OPTIONS"
// configuration is passed on as written, and a bad option is an error naming it.
func TestGoConfig(t *testing.T) {
	for config, want := range map[string]string{"go": GoConfig, "go:ops_sequential": "go:ops_sequential"} {
		b, info, err := New(config)
		if err != nil {
			t.Fatalf("New(%q): %v", config, err)
		}
		if info.Config != want || info.Name != "go" || !info.IsGo() || b == nil {
			t.Errorf("New(%q): config %q name %q (backend %v), want config %q, name go", config, info.Config, info.Name, b, want)
		}
	}
	if _, _, err := New("go:no_such_option"); err == nil || !strings.Contains(err.Error(), "no_such_option") {
		t.Errorf("New(go:no_such_option): %v, want an error naming the option", err)
	}
	if Go() != Go() {
		t.Error("Go() returned two backends")
	}
}
