package rollout

import (
	"github.com/cutover/cutover/internal/spec"
)

// recreate stops every instance of From, then starts the instances of To: downtime by
// design. A failure rolls back, starting From again.
type recreate struct {
	p spec.Recreate
}

func newRecreate(p *spec.Recreate) recreate {
	var r recreate
	if p != nil {
		r.p = *p
	}
	return r
}

func (r recreate) next(st State, obs Observation) (State, Decision) {
	return shape{
		deadline: deadlineOr(r.p.ProgressDeadline),
		hold:     func(State, view) Decision { return Decision{} },
		step:     r.step,
	}.next(st, obs)
}

func (r recreate) step(st State, v view) (State, Decision) {
	// Stop and start never share a decision: the controller starts before it stops, and
	// recreate promises that old and new never run together.
	if len(v.from) > 0 {
		st.Phase = "stopping"
		return st, Decision{Stop: ids(v.from), Wait: waitStarting}
	}
	n := st.Replicas
	d := Decision{Start: startOrder(st.To, n-len(alive(v.to)))}
	if v.available(v.to) < n {
		st.Phase = "starting"
		d.Wait = v.wait(v.to, len(d.Start) > 0)
		return st, d
	}
	switch smokeOf(st, v.spec) {
	case hookToAsk:
		st.Phase = phaseSmoke
		return st, Decision{Hook: HookSmoke, Preview: st.To, Wait: waitIdle}
	case hookWaiting:
		return st, Decision{Preview: st.To, Wait: waitIdle}
	}
	return succeed(st)
}
