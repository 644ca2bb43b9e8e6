package health

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/spec"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// at is the time of step i of a tracker case (step i is observed at t0 + i+1 seconds).
func at(i int) time.Time { return t0.Add(time.Duration(i+1) * time.Second) }

// step is one observation (or a Reset) and the health expected after it.
type step struct {
	reset   bool
	kind    Kind
	fail    string // empty: success
	want    Result
	changed bool
}

func probe(succ, fail int) *spec.Probe {
	return &spec.Probe{TCP: &spec.TCPProbe{}, SuccessThreshold: succ, FailureThreshold: fail}
}

var (
	notStarted = Result{Live: true}
	startedNR  = Result{Started: true, Live: true}
)

func ready(i int) Result { return Result{Started: true, Ready: true, Live: true, ReadySince: at(i)} }

func notReady(msg string) Result { return Result{Started: true, Live: true, Message: msg} }

func TestTrackerTransitions(t *testing.T) {
	tests := []struct {
		name   string
		probes spec.Probes
		start  Result
		steps  []step
	}{
		{
			name:  "no probes: ready at start, observations ignored",
			start: Result{Started: true, Ready: true, Live: true, ReadySince: t0},
			steps: []step{
				{kind: Readiness, fail: "x", want: Result{Started: true, Ready: true, Live: true, ReadySince: t0}},
				{kind: Liveness, fail: "x", want: Result{Started: true, Ready: true, Live: true, ReadySince: t0}},
				{kind: Startup, fail: "x", want: Result{Started: true, Ready: true, Live: true, ReadySince: t0}},
			},
		},
		{
			name:   "startup gates readiness and liveness",
			probes: spec.Probes{Startup: probe(2, 3), Readiness: probe(1, 3), Liveness: probe(1, 1)},
			start:  notStarted,
			steps: []step{
				{kind: Readiness, want: notStarted},
				{kind: Liveness, fail: "dead", want: notStarted},
				{kind: Startup, want: notStarted},
				{kind: Startup, fail: "refused", want: notStarted}, // breaks the success streak
				{kind: Startup, want: notStarted},
				{kind: Startup, want: startedNR, changed: true},
				{kind: Startup, fail: "x", want: startedNR}, // startup no longer runs
				{kind: Readiness, want: ready(7), changed: true},
				{kind: Readiness, want: ready(7)},
			},
		},
		{
			name:   "startup without readiness makes ready",
			probes: spec.Probes{Startup: probe(1, 3)},
			start:  notStarted,
			steps: []step{
				{kind: Startup, fail: "x", want: notStarted},
				{kind: Startup, want: ready(1), changed: true},
			},
		},
		{
			name:   "startup failure threshold makes not live until reset",
			probes: spec.Probes{Startup: probe(1, 3), Readiness: probe(1, 1)},
			start:  notStarted,
			steps: []step{
				{kind: Startup, fail: "a", want: notStarted},
				{kind: Startup, fail: "b", want: notStarted},
				{kind: Startup, fail: "connection refused", want: Result{Message: "startup: connection refused"}, changed: true},
				{kind: Startup, want: Result{Message: "startup: connection refused"}},
				{kind: Readiness, want: Result{Message: "startup: connection refused"}},
				{reset: true, want: notStarted},
				{kind: Startup, fail: "a", want: notStarted}, // counters were reset too
				{kind: Startup, fail: "b", want: notStarted},
				{kind: Startup, want: startedNR, changed: true},
			},
		},
		{
			name:   "readiness thresholds both ways",
			probes: spec.Probes{Readiness: probe(2, 3)},
			start:  startedNR,
			steps: []step{
				{kind: Readiness, want: startedNR},
				{kind: Readiness, want: ready(1), changed: true},
				{kind: Readiness, fail: "GET /healthz: status 503", want: ready(1)},
				{kind: Readiness, fail: "GET /healthz: status 503", want: ready(1)},
				{kind: Readiness, fail: "GET /healthz: status 503", want: notReady("readiness: GET /healthz: status 503"), changed: true},
				{kind: Readiness, fail: "GET /healthz: status 503", want: notReady("readiness: GET /healthz: status 503")},
				{kind: Readiness, fail: "GET /healthz: timeout", want: notReady("readiness: GET /healthz: timeout"), changed: true},
				{kind: Readiness, want: notReady("readiness: GET /healthz: timeout")},
				{kind: Readiness, fail: "x", want: notReady("readiness: GET /healthz: timeout")}, // streak of 1
				{kind: Readiness, want: notReady("readiness: GET /healthz: timeout")},
				{kind: Readiness, want: ready(10), changed: true},
			},
		},
		{
			name:   "readiness never passing explains why",
			probes: spec.Probes{Readiness: probe(1, 2)},
			start:  startedNR,
			steps: []step{
				{kind: Readiness, fail: "refused", want: startedNR},
				{kind: Readiness, fail: "refused", want: notReady("readiness: refused"), changed: true},
			},
		},
		{
			name:   "readiness failures must be consecutive",
			probes: spec.Probes{Readiness: probe(1, 2)},
			start:  startedNR,
			steps: []step{
				{kind: Readiness, want: ready(0), changed: true},
				{kind: Readiness, fail: "x", want: ready(0)},
				{kind: Readiness, want: ready(0)},
				{kind: Readiness, fail: "x", want: ready(0)},
				{kind: Readiness, fail: "x", want: notReady("readiness: x"), changed: true},
			},
		},
		{
			name:   "liveness failure threshold makes not live and not ready",
			probes: spec.Probes{Readiness: probe(1, 3), Liveness: probe(1, 2)},
			start:  startedNR,
			steps: []step{
				{kind: Readiness, want: ready(0), changed: true},
				{kind: Liveness, fail: "x", want: ready(0)},
				{kind: Liveness, want: ready(0)},
				{kind: Liveness, fail: "x", want: ready(0)},
				{kind: Liveness, fail: "exit status 1", want: Result{Started: true, Message: "liveness: exit status 1"}, changed: true},
				{kind: Readiness, want: Result{Started: true, Message: "liveness: exit status 1"}},
				{kind: Liveness, want: Result{Started: true, Message: "liveness: exit status 1"}},
				{reset: true, want: startedNR},
				{kind: Liveness, fail: "x", want: startedNR},
			},
		},
		{
			name:   "liveness without readiness",
			probes: spec.Probes{Liveness: probe(1, 1)},
			start:  Result{Started: true, Ready: true, Live: true, ReadySince: t0},
			steps: []step{
				{kind: Liveness, want: Result{Started: true, Ready: true, Live: true, ReadySince: t0}},
				{kind: Liveness, fail: "x", want: Result{Started: true, Message: "liveness: x"}, changed: true},
			},
		},
		{
			name:   "zero thresholds take defaults",
			probes: spec.Probes{Readiness: probe(0, 0)},
			start:  startedNR,
			steps: []step{
				{kind: Readiness, want: ready(0), changed: true},
				{kind: Readiness, fail: "x", want: ready(0)},
				{kind: Readiness, fail: "x", want: ready(0)},
				{kind: Readiness, fail: "x", want: notReady("readiness: x"), changed: true},
			},
		},
		{
			name:   "unknown kind ignored",
			probes: spec.Probes{Readiness: probe(1, 1)},
			start:  startedNR,
			steps:  []step{{kind: Kind(7), want: startedNR}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(tt.probes)
			if diff := cmp.Diff(tr.Start(t0), tt.start); diff != "" {
				t.Fatalf("Start (-got +want):\n%s", diff)
			}
			for i, s := range tt.steps {
				var got Result
				var changed bool
				switch {
				case s.reset:
					tr.Reset()
					got, changed = tr.Result(), s.changed
				case s.fail == "":
					got, changed = tr.ObserveErr(s.kind, nil, at(i))
				default:
					got, changed = tr.ObserveErr(s.kind, errors.New(s.fail), at(i))
				}
				if diff := cmp.Diff(got, s.want); diff != "" {
					t.Fatalf("step %d (%v fail=%q reset=%v) (-got +want):\n%s", i, s.kind, s.fail, s.reset, diff)
				}
				if changed != s.changed {
					t.Fatalf("step %d (%v fail=%q): changed = %v, want %v", i, s.kind, s.fail, changed, s.changed)
				}
				if diff := cmp.Diff(tr.Result(), got); diff != "" {
					t.Fatalf("step %d: Result() differs from returned (-got +want):\n%s", i, diff)
				}
			}
		})
	}
}

func TestTrackerObserveBool(t *testing.T) {
	tr := NewTracker(spec.Probes{Readiness: probe(1, 1)})
	if got, changed := tr.Observe(Readiness, true, t0); !changed || !got.Ready || !got.ReadySince.Equal(t0) {
		t.Fatalf("Observe(ok) = %+v, %v; want ready since t0, changed", got, changed)
	}
	got, changed := tr.Observe(Readiness, false, t0)
	want := notReady("readiness: probe failed")
	if diff := cmp.Diff(got, want); diff != "" || !changed {
		t.Fatalf("Observe(fail) changed=%v (-got +want):\n%s", changed, diff)
	}
}

func TestTrackerInitialState(t *testing.T) {
	tests := []struct {
		name   string
		probes spec.Probes
		want   Result
	}{
		{"none", spec.Probes{}, Result{Started: true, Ready: true, Live: true}},
		{"startup", spec.Probes{Startup: probe(1, 1)}, notStarted},
		{"readiness", spec.Probes{Readiness: probe(1, 1)}, startedNR},
		{"liveness", spec.Probes{Liveness: probe(1, 1)}, Result{Started: true, Ready: true, Live: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(NewTracker(tt.probes).Result(), tt.want); diff != "" {
				t.Errorf("NewTracker(%s).Result() (-got +want):\n%s", tt.name, diff)
			}
		})
	}
}
