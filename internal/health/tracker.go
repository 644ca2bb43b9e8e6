package health

import (
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// Tracker turns probe outcomes into a Result with Kubernetes' semantics. It is pure: no
// clock, no goroutines, no I/O; the time of each observation is passed in. It is not safe
// for concurrent use.
//
// With a startup probe, Started stays false until it succeeds SuccessThreshold times in a
// row, and readiness and liveness observations are ignored until then; FailureThreshold
// startup failures in a row make the instance not live. Without one, Started is true at
// once. Ready starts false, becomes true after SuccessThreshold readiness successes in a
// row and false after FailureThreshold failures in a row; without a readiness probe Ready
// follows Started. FailureThreshold liveness failures in a row make the instance not live
// (and not ready). Once not live, every observation is ignored until Reset.
type Tracker struct {
	probes [3]*spec.Probe
	succ   [3]int
	fail   [3]int
	res    Result
}

// NewTracker returns a tracker for the given probes in its initial state. Zero probe
// parameters take Kubernetes' defaults.
func NewTracker(p spec.Probes) *Tracker {
	t := &Tracker{}
	for _, k := range []Kind{Startup, Readiness, Liveness} {
		t.probes[k] = probeOf(p, k)
	}
	t.Reset()
	return t
}

// Reset returns the tracker to its initial state, as for a freshly started instance.
func (t *Tracker) Reset() {
	t.succ = [3]int{}
	t.fail = [3]int{}
	started := t.probes[Startup] == nil
	t.res = Result{
		Started: started,
		Ready:   started && t.probes[Readiness] == nil,
		Live:    true,
	}
}

// Start resets the tracker and marks now as the moment probing of the instance begins:
// when no startup or readiness probe gates it, the instance is ready from now.
func (t *Tracker) Start(now time.Time) Result {
	t.Reset()
	if t.res.Ready {
		t.res.ReadySince = now
	}
	return t.res
}

// Result returns the current health.
func (t *Tracker) Result() Result { return t.res }

// Observe records one probe outcome of kind at now and returns the health after it, and
// whether the health changed. A failure's Message names only the kind; use ObserveErr to
// carry the reason.
func (t *Tracker) Observe(kind Kind, ok bool, now time.Time) (Result, bool) {
	return t.observe(kind, ok, "probe failed", now)
}

// ObserveErr is Observe with err == nil as success; err's text becomes the Message's reason
// when the failure changes the health.
func (t *Tracker) ObserveErr(kind Kind, err error, now time.Time) (Result, bool) {
	if err == nil {
		return t.observe(kind, true, "", now)
	}
	return t.observe(kind, false, err.Error(), now)
}

func (t *Tracker) observe(kind Kind, ok bool, reason string, now time.Time) (Result, bool) {
	if kind < Startup || kind > Liveness {
		return t.res, false
	}
	p := t.probes[kind]
	if p == nil || !t.res.Live {
		return t.res, false
	}
	// Startup runs only until it succeeds; the others only after.
	if (kind == Startup) == t.res.Started {
		return t.res, false
	}
	prev := t.res
	if ok {
		t.succ[kind]++
		t.fail[kind] = 0
	} else {
		t.fail[kind]++
		t.succ[kind] = 0
	}
	msg := kind.String() + ": " + reason
	passed := ok && t.succ[kind] >= p.SuccessThreshold
	failed := !ok && t.fail[kind] >= p.FailureThreshold
	switch kind {
	case Startup:
		if passed {
			t.res.Started = true
			t.res.Message = ""
			if t.probes[Readiness] == nil {
				t.setReady(now)
			}
		} else if failed {
			t.setNotLive(msg)
		}
	case Readiness:
		if passed && !t.res.Ready {
			t.setReady(now)
		} else if failed {
			t.res.Ready = false
			t.res.ReadySince = time.Time{}
			t.res.Message = msg
		}
	case Liveness:
		if failed {
			t.setNotLive(msg)
		}
	}
	return t.res, !t.res.equal(prev)
}

func (t *Tracker) setReady(now time.Time) {
	t.res.Ready = true
	t.res.ReadySince = now
	t.res.Message = ""
}

func (t *Tracker) setNotLive(msg string) {
	t.res.Live = false
	t.res.Ready = false
	t.res.ReadySince = time.Time{}
	t.res.Message = msg
}
