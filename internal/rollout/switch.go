package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// StrategySwitch is State.Strategy of a warm switch (a rollback inside the warm window).
const StrategySwitch = "switch"

// ErrNotWarm is Controller.Switch's error when the revision to switch to has fewer ready
// instances than the service's replicas: nothing was recorded and no traffic moved; the
// caller deploys that revision instead.
var ErrNotWarm = errors.New("revision is not warm")

// SwitchRecorder records warm switches in two parts around the swap.
type SwitchRecorder interface {
	// RecordSwitch persists, before traffic moves, the least that a daemon killed after the
	// swap needs to route as the proxy does: d, final from its start, and the service's new
	// stable revision, at once; it sets d.ID and gives the revision that served its warm
	// window in the live view. Nothing is recorded on error.
	RecordSwitch(ctx context.Context, d *Deployment) error
	// SwitchDone persists, once traffic has moved, the rest: the warm window of the revision
	// that served and the notes as d's events, at once, synced to the disk with what
	// RecordSwitch wrote. A daemon killed before it returns loses only those: the old
	// revision's instances are stopped when it recovers.
	SwitchDone(ctx context.Context, d *Deployment, notes []Note) error
}

// Note is one event of a deployment: its type, message and data.
type Note struct {
	Type, Message string
	Data          map[string]any
}

// Switch is the warm switch's strategy: when st.To still has st.Replicas ready instances
// (blue-green keeps the old color warm for scale_down_delay), all traffic goes to it in one
// swap and the deployment has succeeded. Otherwise it fails with nothing to do: the
// revision is not warm. A canary's baseline instances never count.
func Switch(st State, obs Observation) (State, Decision) {
	if !st.Status.Active() {
		return st, settled(st)
	}
	ready := 0
	for _, in := range obs.Instances {
		if in.Revision == st.To && in.Ready && !in.Baseline {
			ready++
		}
	}
	if ready < st.Replicas {
		st.Status = StatusFailed
		st.Phase = "failed"
		st.Reason = fmt.Sprintf("revision %d is not warm: %d of %d instances ready", st.To, ready, st.Replicas)
		return st, Decision{Wait: waitIdle}
	}
	st.Status = StatusSucceeded
	st.Phase = phasePromoted
	st.SwitchedAt = obs.Now
	return st, Decision{Weights: map[int]int{st.To: 100}}
}

// Switch moves all of the service's traffic from revision from to revision to in one swap
// when to is warm (see the Switch strategy), as a deployment of s, the spec of to. It
// decides from what it observes, has rec persist the outcome (the deployment and the new
// stable revision, the least a recovery needs), and only then moves traffic, so the record
// never claims less than the proxy does: a daemon killed in between recovers with to as the
// stable revision and routes to it. Then rec persists the rest: the old revision's warm
// window, the deployment's event and the swap's own duration (traffic_switched); when that
// fails, Switch returns d with the error: traffic has moved and the record says so, but the
// switch is not claimed to have succeeded. It fails with ErrNotWarm, having done nothing, when
// to is not warm.
func (c *Controller) Switch(ctx context.Context, rec SwitchRecorder, s spec.Service, from, to int) (*Deployment, error) {
	now := c.now().UTC()
	d := &Deployment{Service: s.Name, Spec: s, State: State{Strategy: StrategySwitch, From: from, To: to,
		Replicas: s.Replicas, Status: StatusRunning, Phase: "pending", StartedAt: now, LastProgressAt: now}}
	insts, err := c.instances.Observe(ctx, s.Name)
	if err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	next, dec := Switch(d.State, Observation{Now: now, Spec: s, Instances: insts})
	if next.Status != StatusSucceeded {
		return nil, fmt.Errorf("%s: %w", next.Reason, ErrNotWarm)
	}
	d.State = next
	if err := rec.RecordSwitch(ctx, d); err != nil {
		return nil, fmt.Errorf("record switch: %w", err)
	}
	start := time.Now()
	if err := c.traffic.SetWeights(ctx, s.Name, dec.Weights, dec.Preview); err != nil {
		return d, fmt.Errorf("deployment %d recorded, traffic not moved: set weights: %w", d.ID, err)
	}
	took := time.Since(start)
	notes := []Note{
		{Type: "deployment_succeeded", Message: fmt.Sprintf("rolled back to warm revision %d in one switch", to),
			Data: map[string]any{"from": from, "to": to}},
		{Type: "traffic_switched", Message: fmt.Sprintf("traffic moved to revision %d in one swap (%s)", to, took.Round(time.Microsecond)),
			Data: map[string]any{"from": from, "to": to, "switch_us": took.Microseconds()}},
	}
	if err := rec.SwitchDone(ctx, d, notes); err != nil {
		// Traffic has moved and the record says so, but the rest is not recorded, and the
		// record itself may not have reached the disk: no success is claimed.
		return d, fmt.Errorf("deployment %d moved traffic to revision %d, but its warm window and events were not recorded: %w", d.ID, to, err)
	}
	return d, nil
}
