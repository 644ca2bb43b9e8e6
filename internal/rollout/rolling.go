package rollout

import (
	"fmt"

	"github.com/cutover/cutover/internal/spec"
)

// rolling replaces instances of From by instances of To a few at a time, start-first,
// with Kubernetes' Deployment semantics: at most Replicas+surge instances exist, at least
// Replicas-unavailable are available, and unhealthy old instances go first.
type rolling struct {
	p spec.Rolling
}

func newRolling(p *spec.Rolling) rolling {
	r := rolling{p: spec.Rolling{
		MaxSurge:       spec.IntOrPercent{Value: DefaultMaxSurgePercent, Percent: true},
		MaxUnavailable: spec.IntOrPercent{Value: DefaultMaxUnavailablePercent, Percent: true},
	}}
	if p != nil {
		r.p = *p
	}
	return r
}

func (r rolling) next(st State, obs Observation) (State, Decision) {
	return shape{
		minReady:       r.p.MinReady.D(),
		deadline:       deadlineOr(r.p.ProgressDeadline),
		pauseOnFailure: r.p.OnFailure == spec.OnFailurePause,
		hold:           r.hold,
		step:           r.step,
	}.next(st, obs)
}

// limits returns surge (rounded up) and unavailable (rounded down) for n replicas; both
// zero would never move, so surge is then 1.
func (r rolling) limits(n int) (surge, unavailable int) {
	surge = r.p.MaxSurge.Value
	if r.p.MaxSurge.Percent {
		surge = (r.p.MaxSurge.Value*n + 99) / 100
	}
	unavailable = r.p.MaxUnavailable.Value
	if r.p.MaxUnavailable.Percent {
		unavailable = r.p.MaxUnavailable.Value * n / 100
	}
	if surge == 0 && unavailable == 0 {
		surge = 1
	}
	return surge, unavailable
}

// hold keeps traffic off the new revision until the smoke hook has passed; after that
// traffic spreads over every ready instance.
func (r rolling) hold(st State, v view) Decision {
	if smokeOf(st, v.spec) != hookPassed && countReady(v.from) > 0 {
		return Decision{Weights: map[int]int{st.From: 100}}
	}
	return Decision{}
}

func (r rolling) step(st State, v view) (State, Decision) {
	n := st.Replicas
	surge, _ := r.limits(n)
	newAll := len(alive(v.to))
	newAvail := v.available(v.to)
	smoke := smokeOf(st, v.spec)

	d := r.hold(st, v)
	// New instances serve nothing before the smoke hook passes, so no old one may go.
	if smoke == hookPassed {
		d.Stop = r.stops(st, v, newAvail)
	}
	// The old instances stopped by this decision leave room for new ones at once: the
	// next batch starts in the same step as the stop that makes way for it.
	d.Start = startOrder(st.To, min(n-newAll, n+surge-newAll-(len(v.from)-len(d.Stop))))
	switch {
	case newAvail >= n && smoke == hookPassed && len(d.Stop) == len(v.from):
		st, done := succeed(st)
		done.Stop = d.Stop
		return st, done
	case smoke == hookToAsk && newAvail > 0:
		st.Phase = phaseSmoke
		d.Hook = HookSmoke
	case smoke == hookWaiting:
		st.Phase = phaseSmoke
	case newAvail == 0:
		st.Phase = "starting"
	default:
		st.Phase = fmt.Sprintf("rolling (%d/%d new available)", newAvail, n)
	}
	if d.Hook != "" || smoke == hookWaiting {
		d.Preview = st.To
	}
	// After a stop the next move (a start or another stop) is possible at once.
	d.Wait = v.wait(v.to, len(d.Start) > 0 || len(d.Stop) > 0)
	return st, d
}

// stops picks the old instances to stop now. Not-ready ones go first, as far as the total
// count allows (Kubernetes' cleanup of unhealthy replicas); then ready ones, never taking
// the available total below Replicas-unavailable.
func (r rolling) stops(st State, v view, newAvail int) []string {
	n := st.Replicas
	_, unavailable := r.limits(n)
	minAvail := n - unavailable
	newAll := len(alive(v.to))
	var ready, notReady []string
	for _, in := range v.from {
		if in.Ready {
			ready = append(ready, in.ID)
		} else {
			notReady = append(notReady, in.ID)
		}
	}
	cleanup := newAll + len(v.from) - minAvail - (newAll - newAvail)
	cleanup = max(0, min(cleanup, len(notReady)))
	scaleDown := max(0, min(newAvail+len(ready)-minAvail, len(ready)))
	return append(notReady[:cleanup:cleanup], ready[:scaleDown]...)
}
