package health

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/spec"
)

// call is one probe attempt seen by fakeCheck: which probe (its HTTP path), when (since
// the fake was made) and where.
type call struct {
	Kind string
	At   time.Duration
	Addr string
}

// fakeCheck stands in for real probe attempts inside a synctest bubble. Probes are told
// apart by their HTTP path; script decides the outcome of the n-th attempt of each.
type fakeCheck struct {
	start  time.Time
	script func(ctx context.Context, kind string, n int) error

	mu       sync.Mutex
	calls    []call
	n        map[string]int
	inFlight int
}

func newFake(script func(ctx context.Context, kind string, n int) error) *fakeCheck {
	return &fakeCheck{start: time.Now(), script: script, n: map[string]int{}}
}

func (f *fakeCheck) check(ctx context.Context, p spec.Probe, t Target) error {
	kind := p.HTTP.Path
	f.mu.Lock()
	n := f.n[kind]
	f.n[kind]++
	f.calls = append(f.calls, call{Kind: kind, At: time.Since(f.start), Addr: t.Addr})
	f.inFlight++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	return f.script(ctx, kind, n)
}

// times returns when the attempts of kind happened.
func (f *fakeCheck) times(kind string) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ts []time.Duration
	for _, c := range f.calls {
		if c.Kind == kind {
			ts = append(ts, c.At)
		}
	}
	return ts
}

func okScript(context.Context, string, int) error { return nil }

// timed is a report and when it came (since the fake was made).
type timed struct {
	At     time.Duration
	Result Result
}

// fakeProbe is a probe the fake tells apart by path.
func fakeProbe(kind string, delay, period time.Duration, succ, fail int) *spec.Probe {
	return &spec.Probe{
		HTTP:             &spec.HTTPProbe{Path: kind},
		InitialDelay:     spec.Duration(delay),
		Period:           spec.Duration(period),
		SuccessThreshold: succ,
		FailureThreshold: fail,
	}
}

// runFor runs a prober with f for d of fake time (calling during, if set, from the test
// goroutine meanwhile), cancels it and returns its reports once Run has returned.
func runFor(t *testing.T, pr *Prober, f *fakeCheck, d time.Duration, during func()) []timed {
	t.Helper()
	pr.check = f.check
	if pr.startPeriod == DefaultStartPeriod {
		pr.startPeriod = 0 // these tests check the plain schedule; TestProberFastStart and retry_test.go the fast one
	}
	ctx, cancel := context.WithCancel(t.Context())
	var mu sync.Mutex
	var reports []timed
	done := make(chan struct{})
	go func() {
		defer close(done)
		pr.Run(ctx, func(r Result) {
			mu.Lock()
			reports = append(reports, timed{time.Since(f.start), r})
			mu.Unlock()
		})
	}()
	if during != nil {
		during()
	}
	time.Sleep(d - time.Since(f.start))
	cancel()
	<-done
	if f.inFlight != 0 {
		t.Errorf("%d probe attempts still running after Run returned", f.inFlight)
	}
	return reports
}

func secs(ss ...float64) []time.Duration {
	var ds []time.Duration
	for _, s := range ss {
		ds = append(ds, time.Duration(s*float64(time.Second)))
	}
	return ds
}

func TestProberInitialDelayAndPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(okScript)
		pr := NewProber(spec.Probes{
			Readiness: fakeProbe("ready", 5*time.Second, 2*time.Second, 1, 3),
			Liveness:  fakeProbe("live", 0, 3*time.Second, 1, 3),
		}, Target{Addr: "a:1"}, nil)
		reports := runFor(t, pr, f, 10500*time.Millisecond, nil)
		if diff := cmp.Diff(f.times("ready"), secs(5, 7, 9)); diff != "" {
			t.Errorf("readiness attempts (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(f.times("live"), secs(0, 3, 6, 9)); diff != "" {
			t.Errorf("liveness attempts (-got +want):\n%s", diff)
		}
		want := []timed{
			{0, Result{Started: true, Live: true}},
			{5 * time.Second, Result{Started: true, Ready: true, Live: true, ReadySince: f.start.Add(5 * time.Second)}},
		}
		if diff := cmp.Diff(reports, want); diff != "" {
			t.Errorf("reports (-got +want):\n%s", diff)
		}
	})
}

func TestProberStartupGates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(func(_ context.Context, kind string, n int) error {
			if kind == "startup" && n < 2 {
				return errors.New("connection refused")
			}
			return nil
		})
		pr := NewProber(spec.Probes{
			Startup:   fakeProbe("startup", 0, time.Second, 1, 5),
			Readiness: fakeProbe("ready", 0, time.Second, 1, 3),
			Liveness:  fakeProbe("live", 0, time.Second, 1, 3),
		}, Target{Addr: "a:1"}, nil)
		reports := runFor(t, pr, f, 4500*time.Millisecond, nil)
		if diff := cmp.Diff(f.times("startup"), secs(0, 1, 2)); diff != "" {
			t.Errorf("startup attempts (-got +want):\n%s", diff)
		}
		for _, k := range []string{"ready", "live"} {
			if diff := cmp.Diff(f.times(k), secs(2, 3, 4)); diff != "" {
				t.Errorf("%s attempts (-got +want):\n%s", k, diff)
			}
		}
		want := []timed{
			{0, Result{Live: true}},
			{2 * time.Second, Result{Started: true, Live: true}},
			{2 * time.Second, Result{Started: true, Ready: true, Live: true, ReadySince: f.start.Add(2 * time.Second)}},
		}
		if diff := cmp.Diff(reports, want); diff != "" {
			t.Errorf("reports (-got +want):\n%s", diff)
		}
	})
}

func TestProberReportsChangesOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Attempt n of readiness (one per second) fails where script is false.
		script := []bool{true, true, false, true, false, false, false, true}
		f := newFake(func(_ context.Context, kind string, n int) error {
			if n < len(script) && !script[n] {
				return errors.New("GET /ready: status 503")
			}
			return nil
		})
		pr := NewProber(spec.Probes{Readiness: fakeProbe("ready", 0, time.Second, 1, 2)}, Target{}, nil)
		reports := runFor(t, pr, f, 7500*time.Millisecond, nil)
		at := func(s int) time.Time { return f.start.Add(time.Duration(s) * time.Second) }
		want := []timed{
			{0, Result{Started: true, Live: true}},
			{0, Result{Started: true, Ready: true, Live: true, ReadySince: at(0)}},
			{5 * time.Second, Result{Started: true, Live: true, Message: "readiness: GET /ready: status 503"}},
			{7 * time.Second, Result{Started: true, Ready: true, Live: true, ReadySince: at(7)}},
		}
		if diff := cmp.Diff(reports, want); diff != "" {
			t.Errorf("reports (-got +want):\n%s", diff)
		}
	})
}

func TestProberSlowProbeDoesNotBlockOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(func(ctx context.Context, kind string, _ int) error {
			if kind == "live" {
				<-ctx.Done() // hangs until Run is cancelled
				return ctx.Err()
			}
			return nil
		})
		pr := NewProber(spec.Probes{
			Readiness: fakeProbe("ready", 0, time.Second, 1, 3),
			Liveness:  fakeProbe("live", 0, time.Second, 1, 1),
		}, Target{}, nil)
		reports := runFor(t, pr, f, 4500*time.Millisecond, nil)
		if diff := cmp.Diff(f.times("ready"), secs(0, 1, 2, 3, 4)); diff != "" {
			t.Errorf("readiness attempts beside a hung liveness probe (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(f.times("live"), secs(0)); diff != "" {
			t.Errorf("liveness attempts (-got +want):\n%s", diff)
		}
		// The cancelled attempt is not counted as a liveness failure.
		for _, r := range reports {
			if !r.Result.Live {
				t.Errorf("report %+v: not live after a cancelled attempt", r)
			}
		}
	})
}

func TestProberNotLiveStopsUntilReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(func(_ context.Context, kind string, n int) error {
			if kind == "live" && n == 1 {
				return errors.New("exit status 1")
			}
			return nil
		})
		pr := NewProber(spec.Probes{
			Readiness: fakeProbe("ready", 0, time.Second, 1, 3),
			Liveness:  fakeProbe("live", 500*time.Millisecond, time.Second, 1, 1),
		}, Target{Addr: "old:1"}, nil)
		reports := runFor(t, pr, f, 7800*time.Millisecond, func() {
			time.Sleep(5 * time.Second) // not live since 1.5s; probing stopped
			pr.SetTarget(Target{Addr: "new:2"})
			pr.Reset()
		})
		if diff := cmp.Diff(f.times("live"), secs(0.5, 1.5, 5.5, 6.5, 7.5)); diff != "" {
			t.Errorf("liveness attempts (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(f.times("ready"), secs(0, 1, 5, 6, 7)); diff != "" {
			t.Errorf("readiness attempts (-got +want):\n%s", diff)
		}
		for _, c := range f.calls {
			if wantAddr := map[bool]string{true: "old:1", false: "new:2"}[c.At < 5*time.Second]; c.Addr != wantAddr {
				t.Errorf("attempt %+v went to %q, want %q", c, c.Addr, wantAddr)
			}
		}
		at := func(s float64) time.Time { return f.start.Add(time.Duration(s * float64(time.Second))) }
		want := []timed{
			{0, Result{Started: true, Live: true}},
			{0, Result{Started: true, Ready: true, Live: true, ReadySince: at(0)}},
			{1500 * time.Millisecond, Result{Started: true, Message: "liveness: exit status 1"}},
			{5 * time.Second, Result{Started: true, Live: true}},
			{5 * time.Second, Result{Started: true, Ready: true, Live: true, ReadySince: at(5)}},
		}
		if diff := cmp.Diff(reports, want); diff != "" {
			t.Errorf("reports (-got +want):\n%s", diff)
		}
	})
}

func TestProberNoProbesReadyAtStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(okScript)
		pr := NewProber(spec.Probes{}, Target{}, nil)
		time.Sleep(time.Second) // ReadySince is when Run starts, not when NewProber ran
		reports := runFor(t, pr, f, 3*time.Second, nil)
		want := []timed{{time.Second, Result{Started: true, Ready: true, Live: true, ReadySince: f.start.Add(time.Second)}}}
		if diff := cmp.Diff(reports, want); diff != "" {
			t.Errorf("reports (-got +want):\n%s", diff)
		}
		if len(f.calls) != 0 {
			t.Errorf("attempts without probes: %+v", f.calls)
		}
	})
}

// TestProberFastStart: until startup and readiness first pass they are retried 2 ms after a
// failure, the wait doubling up to startPeriod, so readiness is seen within one startPeriod
// of the app being able to serve;
// failures still count once per period, so a slow starter is not killed early.
func TestProberFastStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(func(_ context.Context, kind string, n int) error {
			if kind == "ready" && n < 25 {
				return errors.New("connection refused")
			}
			return nil
		})
		pr := NewProber(spec.Probes{Readiness: fakeProbe("ready", 0, time.Second, 1, 3)}, Target{}, nil)
		pr.startPeriod = 40 * time.Millisecond
		reports := runFor(t, pr, f, 3*time.Second, nil)
		last := reports[len(reports)-1]
		// attempts at 0, 2, 6, 14, 30, 62, 102 ms (2 ms doubling to 40), then 40 ms apart:
		// the 26th at 102 + 19×40 = 862 ms
		if !last.Result.Ready || last.At != 862*time.Millisecond {
			t.Errorf("ready reported %+v; want ready at 862ms (the 26th attempt)", last)
		}
		ts := f.times("ready")
		if len(ts) != 26+2 {
			t.Errorf("%d readiness attempts %v; want 26 fast ones, then one per second", len(ts), ts)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		f := newFake(func(context.Context, string, int) error { return errors.New("connection refused") })
		pr := NewProber(spec.Probes{Startup: fakeProbe("startup", 0, time.Second, 1, 3)}, Target{}, nil)
		pr.startPeriod = 40 * time.Millisecond
		reports := runFor(t, pr, f, 5*time.Second, nil)
		var dead time.Duration
		for _, r := range reports {
			if !r.Result.Live {
				dead = r.At
				break
			}
		}
		if dead < 2*time.Second {
			t.Errorf("startup failure_threshold 3 with period 1s declared the instance dead at %v; want at 2s or later", dead)
		}
	})
}
