package testenv

import (
	"runtime"
	"testing"
)

// TestSkipOrFail runs SkipOrFail in a subtest, with and without CI=true, and checks that it
// skips outside CI and fails inside, never letting the test go on.
func TestSkipOrFail(t *testing.T) {
	for _, c := range []struct {
		ci                 string
		wantSkip, wantFail bool
	}{{"", true, false}, {"false", true, false}, {"true", false, true}} {
		t.Setenv("CI", c.ci)
		if InCI() != c.wantFail {
			t.Errorf("CI=%q: InCI() = %v, want %v", c.ci, InCI(), c.wantFail)
		}
		rec := &recorder{TB: t}
		done := make(chan struct{})
		go func() { // Skip and Fatal end the goroutine that calls them.
			defer close(done)
			SkipOrFail(rec, "no %s", "dataset")
			rec.continued = true
		}()
		<-done
		if rec.skipped != c.wantSkip || rec.failed != c.wantFail || rec.continued {
			t.Errorf("CI=%q: skipped %v, failed %v, went on %v; want skipped %v, failed %v, stopped",
				c.ci, rec.skipped, rec.failed, rec.continued, c.wantSkip, c.wantFail)
		}
		if want := "no dataset"; c.wantFail && rec.msg != "CI=true and a prerequisite is missing: "+want || c.wantSkip && rec.msg != want {
			t.Errorf("CI=%q: message %q", c.ci, rec.msg)
		}
	}
}

// recorder is a testing.TB whose Skip and Fatal record the call and end the calling goroutine,
// as the real ones do, without touching the test that owns it.
type recorder struct {
	testing.TB
	skipped, failed, continued bool
	msg                        string
}

func (r *recorder) Helper() {}

func (r *recorder) Skip(args ...any) {
	r.skipped, r.msg = true, args[0].(string)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failed, r.msg = true, args[0].(string)
	runtime.Goexit()
}
