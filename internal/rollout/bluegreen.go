package rollout

import (
	"github.com/cutover/cutover/internal/spec"
)

// blueGreen starts the whole green set (To) beside blue (From), lets previews reach
// green, runs the smoke hook, waits for approval if asked to, then switches all traffic
// in one step. Blue is left running: the controller keeps it warm for scale_down_delay.
// Any failure before the switch rolls back, which only has to stop green.
type blueGreen struct {
	p spec.BlueGreen
}

func newBlueGreen(p *spec.BlueGreen) blueGreen {
	var b blueGreen
	if p != nil {
		b.p = *p
	}
	return b
}

func (b blueGreen) next(st State, obs Observation) (State, Decision) {
	return shape{
		minReady: b.p.MinReady.D(),
		deadline: deadlineOr(b.p.ProgressDeadline),
		hold:     b.hold,
		step:     b.step,
	}.next(st, obs)
}

// hold keeps all traffic on blue and previews on green.
func (b blueGreen) hold(st State, _ view) Decision {
	d := Decision{Preview: st.To}
	if st.From != 0 {
		d.Weights = map[int]int{st.From: 100}
	}
	return d
}

func (b blueGreen) step(st State, v view) (State, Decision) {
	n := st.Replicas
	d := b.hold(st, v)
	d.Start = startOrder(st.To, n-len(alive(v.to)))
	if v.available(v.to) < n {
		st.Phase = "starting green"
		d.Wait = v.wait(v.to, len(d.Start) > 0)
		return st, d
	}
	d.Wait = waitIdle
	switch smokeOf(st, v.spec) {
	case hookToAsk:
		st.Phase = phaseSmoke
		d.Hook = HookSmoke
		return st, d
	case hookWaiting:
		return st, d
	}
	if b.p.ManualApproval && !st.Approved {
		st.Phase = "awaiting approval"
		return st, d
	}
	st.SwitchedAt = v.now
	return succeed(st)
}
