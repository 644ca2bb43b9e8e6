package rollout

import (
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// Defaults used when a spec leaves a strategy parameter at its zero value.
const (
	// DefaultProgressDeadline is Kubernetes' progressDeadlineSeconds default.
	DefaultProgressDeadline = 10 * time.Minute
	// DefaultMaxSurgePercent and DefaultMaxUnavailablePercent are Kubernetes' defaults.
	DefaultMaxSurgePercent       = 25
	DefaultMaxUnavailablePercent = 25
)

// Decision.Wait values used by every strategy.
const (
	waitStarting = 100 * time.Millisecond // instances are starting: look again soon
	waitIdle     = time.Second            // nothing is moving by itself
)

// For returns the strategy function for s.Type ("" means rolling). An unknown type gives a
// strategy that fails the deployment at once, before anything starts.
func For(s spec.Strategy) Strategy {
	switch s.Type {
	case spec.TypeRolling, "":
		return newRolling(s.Rolling).next
	case spec.TypeBlueGreen:
		return newBlueGreen(s.BlueGreen).next
	case spec.TypeRecreate:
		return newRecreate(s.Recreate).next
	case spec.TypeCanary:
		return newCanary(s.Canary).next
	default:
		return failAtOnce(fmt.Sprintf("unknown strategy type %q", s.Type))
	}
}

// failAtOnce returns a strategy that ends the deployment as failed with reason.
func failAtOnce(reason string) Strategy {
	return func(st State, obs Observation) (State, Decision) {
		if !st.Status.Active() {
			return st, settled(st)
		}
		st.Status = StatusFailed
		st.Reason = reason
		st.Phase = "failed"
		return st, settled(st)
	}
}

// shape is what one strategy plugs into the rules every strategy shares: abort, rollback,
// pause, progress, failure and left-over instances.
type shape struct {
	minReady       time.Duration
	deadline       time.Duration
	pauseOnFailure bool
	// baseline keeps a canary's baseline instances; without it they are left-overs to stop.
	baseline bool
	// hold is the traffic the strategy keeps while it is paused (Weights and Preview only).
	hold func(st State, v view) Decision
	// step is the strategy's own move once the shared rules let it go on.
	step func(st State, v view) (State, Decision)
}

// next applies the shared rules, then the strategy's own step.
func (s shape) next(st State, obs Observation) (State, Decision) {
	if !st.Status.Active() {
		return st, settled(st)
	}
	v := newView(st, obs, s.minReady)
	if !s.baseline {
		v.others = append(v.others, ids(v.baseline)...)
		v.baseline = nil
	}
	if st.AbortRequested && !st.RollingBack {
		st.RollingBack = true
		if st.Reason == "" {
			st.Reason = "aborted by operator"
		}
	}
	if st.RollingBack {
		return rollback(st, v)
	}
	if st.Status == StatusPaused || st.PauseRequested {
		return pause(st, s.hold(st, v))
	}
	st = noteProgress(st, v)
	if reason := s.failure(st, v); reason != "" {
		if s.pauseOnFailure {
			st.Status = StatusPaused
			st.Reason = reason
			st.Phase = "paused: " + reason
			return pause(st, s.hold(st, v))
		}
		st.RollingBack = true
		st.Reason = reason
		return rollback(st, v)
	}
	st, d := s.step(st, v)
	d.Stop = append(v.others, d.Stop...)
	return st, d
}

// failure returns why the deployment has failed, or "" while it has not.
func (s shape) failure(st State, v view) string {
	for _, in := range v.to {
		switch {
		case in.CrashLoop:
			return withMessage(fmt.Sprintf("instance %s of revision %d is crash-looping", in.ID, st.To), in.Message)
		case in.Failed:
			return withMessage(fmt.Sprintf("instance %s of revision %d failed", in.ID, st.To), in.Message)
		}
	}
	if smokeOf(st, v.spec) == hookFailed {
		res := st.Hooks[HookSmoke]
		if !strings.HasPrefix(res, "failed") {
			res = "failed: " + res
		}
		return "smoke hook " + res
	}
	// The deadline only guards the climb to full availability: once every new instance
	// has been available, waiting (for approval, a hook, old instances) is not a stall.
	if st.Progress < st.Replicas && v.now.Sub(st.LastProgressAt) > s.deadline {
		return withMessage(fmt.Sprintf("revision %d did not become ready within progress_deadline %s (%d/%d ready)",
			st.To, s.deadline, countReady(alive(v.to)), st.Replicas), unreadyMessage(v.to))
	}
	return ""
}

// unreadyMessage is what the first new instance that is not ready says about itself (its
// last probe result), "" when none says anything.
func unreadyMessage(ins []Instance) string {
	for _, in := range ins {
		if !in.Ready && in.Message != "" {
			return "instance " + in.ID + ": " + in.Message
		}
	}
	return ""
}

func withMessage(s, msg string) string {
	if msg == "" {
		return s
	}
	return s + ": " + msg
}

// noteProgress records a rise in available new instances and starts the deadline clock
// if the controller has not.
func noteProgress(st State, v view) State {
	if st.LastProgressAt.IsZero() {
		st.LastProgressAt = v.now
	}
	if n := v.available(v.to); n > st.Progress {
		st.Progress = n
		st.LastProgressAt = v.now
	}
	return st
}

// pause keeps everything as it is: no starts, no stops, the same traffic.
func pause(st State, hold Decision) (State, Decision) {
	st.Status = StatusPaused
	if !strings.HasPrefix(st.Phase, "paused") {
		st.Phase = "paused"
	}
	return st, Decision{Weights: hold.Weights, Preview: hold.Preview, Wait: waitIdle}
}

// settled is the traffic of a deployment that has ended, should a strategy be asked again.
func settled(st State) Decision {
	switch {
	case st.Status == StatusSucceeded:
		return Decision{Weights: map[int]int{st.To: 100}, Wait: waitIdle}
	case st.From != 0:
		return Decision{Weights: map[int]int{st.From: 100}, Wait: waitIdle}
	default:
		return Decision{Wait: waitIdle}
	}
}

// hookState is where the smoke hook stands.
type hookState int

const (
	hookPassed  hookState = iota // passed, or not configured
	hookToAsk                    // configured and not asked for yet
	hookWaiting                  // asked for, no result yet
	hookFailed
)

// smokeOf reports the smoke hook's state. Phase "smoke" marks it as asked for, so it is
// never asked for twice.
func smokeOf(st State, svc spec.Service) hookState {
	if svc.Hooks.Smoke == nil {
		return hookPassed
	}
	switch res := st.Hooks[HookSmoke]; {
	case res == "passed":
		return hookPassed
	case res != "":
		return hookFailed
	case st.Phase == phaseSmoke:
		return hookWaiting
	default:
		return hookToAsk
	}
}

const (
	phaseSmoke       = "smoke"
	phasePromoted    = "promoted"
	phasePostPromote = "post_promote"
)

// succeed ends the deployment with all traffic on To.
func succeed(st State) (State, Decision) {
	st.Status = StatusSucceeded
	st.Phase = phasePromoted
	return st, Decision{Weights: map[int]int{st.To: 100}}
}

// view sorts the observed instances by revision for one strategy call.
type view struct {
	now      time.Time
	minReady time.Duration
	spec     spec.Service
	from, to []Instance
	// baseline are a canary's baseline instances (of From, never counted in from).
	baseline []Instance
	// others are the IDs of instances of any other revision: left-overs to stop.
	others []string
}

func newView(st State, obs Observation, minReady time.Duration) view {
	v := view{now: obs.Now, minReady: minReady, spec: obs.Spec}
	for _, in := range obs.Instances {
		switch {
		case in.Baseline && in.Revision == st.From && st.From != 0:
			v.baseline = append(v.baseline, in)
		case in.Baseline:
			v.others = append(v.others, in.ID)
		case in.Revision == st.To:
			v.to = append(v.to, in)
		case in.Revision == st.From:
			v.from = append(v.from, in)
		default:
			v.others = append(v.others, in.ID)
		}
	}
	return v
}

// available counts the instances ready for at least min_ready.
func (v view) available(ins []Instance) int {
	n := 0
	for _, in := range ins {
		if in.Available(v.now, v.minReady) {
			n++
		}
	}
	return n
}

// wait is how soon to look again at instances on their way to available: soon while one
// is starting, when the first one's min_ready ends while one is ready, idle otherwise.
func (v view) wait(ins []Instance, started bool) time.Duration {
	if started {
		return waitStarting
	}
	var w time.Duration
	for _, in := range alive(ins) {
		switch {
		case !in.Ready:
			return waitStarting
		case !in.Available(v.now, v.minReady):
			left := max(in.ReadySince.Add(v.minReady).Sub(v.now), time.Millisecond)
			if w == 0 || left < w {
				w = left
			}
		}
	}
	if w == 0 {
		return waitIdle
	}
	return w
}

// alive returns the instances neither failed nor crash-looping.
func alive(ins []Instance) []Instance {
	var out []Instance
	for _, in := range ins {
		if !in.Failed && !in.CrashLoop {
			out = append(out, in)
		}
	}
	return out
}

func countReady(ins []Instance) int {
	n := 0
	for _, in := range ins {
		if in.Ready {
			n++
		}
	}
	return n
}

func ids(ins []Instance) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.ID)
	}
	return out
}

// startOrder asks for count instances of rev, or nothing when count <= 0.
func startOrder(rev, count int) []StartOrder {
	if count <= 0 {
		return nil
	}
	return []StartOrder{{Revision: rev, Count: count}}
}

// deadlineOr returns d, or the default progress deadline when d is unset.
func deadlineOr(d spec.Duration) time.Duration {
	if d <= 0 {
		return DefaultProgressDeadline
	}
	return d.D()
}
