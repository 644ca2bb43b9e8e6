package rollout

// Phases of a rollback.
const (
	phaseRollingBack = "rolling back"
	phaseRolledBack  = "rolled back"
)

// rollback returns the service to st.From, shared by every strategy: From back to
// st.Replicas instances, then every instance of st.To stopped. Traffic goes to From as
// soon as one of its instances is ready; until then whatever is ready keeps serving, so
// it never leaves the service without a serving instance on purpose. A first deployment
// (From 0) has nothing to return to: its new instances are simply stopped.
//
// The deployment ends aborted when the operator asked for it, rolled_back otherwise.
// Rollback ignores pause requests: a half-rolled-back service is the worse place to stop.
func rollback(st State, v view) (State, Decision) {
	final := StatusRolledBack
	if st.AbortRequested {
		final = StatusAborted
	}
	st.Status = StatusRunning
	st.Phase = phaseRollingBack
	d := Decision{Stop: v.others}

	if st.From == 0 {
		return finishRollback(st, final, d, v)
	}
	// Failed instances exited for good: stop them and start others in their place.
	// Crash-looping ones are still the runtime's to restart, so they count as present.
	var present []Instance
	broken := false
	for _, in := range v.from {
		broken = broken || in.Failed || in.CrashLoop
		if in.Failed {
			d.Stop = append(d.Stop, in.ID)
			continue
		}
		present = append(present, in)
	}
	d.Start = startOrder(st.From, st.Replicas-len(present))
	ready := countReady(v.from)
	if ready > 0 {
		d.Weights = map[int]int{st.From: 100}
	}
	// From cannot come back whole: settle for the ready part rather than wait forever.
	if ready >= st.Replicas || (broken && ready > 0) {
		return finishRollback(st, final, d, v)
	}
	d.Wait = v.wait(v.from, len(d.Start) > 0)
	return st, d
}

// finishRollback stops every instance of To and every baseline instance, and ends the
// deployment with final.
func finishRollback(st State, final Status, d Decision, v view) (State, Decision) {
	st.Status = final
	st.Phase = phaseRolledBack
	d.Stop = append(d.Stop, ids(v.to)...)
	d.Stop = append(d.Stop, ids(v.baseline)...)
	d.Wait = 0
	return st, d
}
