package rollout

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/spec"
)

// canary moves traffic from From to To by the spec's steps, as Argo Rollouts' canary does:
//
//   - weight N sets the weights {From: 100-N, To: N} once enough instances of To are
//     available for that share, then goes on at once;
//   - pause D waits D from the step's start; pause 0 (written "pause: {}") waits for a promote;
//   - analysis D waits until the judge passes the canary, at most D; what an inconclusive end
//     does is the analysis' inconclusive setting (pause, fail or pass);
//   - the last step is weight 100 (implied when the steps do not end there): To is scaled to
//     Replicas, all traffic moves to it and the From instances stop.
//
// To grows with its weight: ceil(N% × Replicas) instances, at least one, so a 5% canary of a
// ten-instance service costs one instance, not ten. Traffic never moves to a share before its
// instances are available, and progress_deadline bounds each such climb.
//
// A fail verdict rolls back at any time, paused or not: all traffic returns to From in one
// decision and To stops. A promote (State.Approved) ends a pause or analysis step early (and
// continues a deployment that an inconclusive analysis paused); a full promote
// (State.PromoteFull) skips the remaining steps. A first deployment (From 0) has nothing to
// compare with: it starts Replicas instances and promotes them, with no steps.
//
// With a baseline (spec baseline: true), fresh instances of From, as many as the canary's,
// start alongside it and take the same weight under BaselineRevision(From): the weights are
// {From: 100-2N, -From: N, To: N}, and a weight step waits for both. They never count as
// From's capacity: the end of the deployment, promoted or rolled back, stops them all.
type canary struct {
	p     spec.Canary
	steps []spec.CanaryStep // the spec's steps, ending with weight 100
}

func newCanary(p *spec.Canary) canary {
	var c canary
	if p != nil {
		c.p = *p
	}
	c.steps = slices.Clone(c.p.Steps)
	if n := len(c.steps); n == 0 || c.steps[n-1].Weight == nil || *c.steps[n-1].Weight != 100 {
		c.steps = append(c.steps, spec.CanaryStep{Weight: new(100)})
	}
	return c
}

func (c canary) next(st State, obs Observation) (State, Decision) {
	if st.Status.Active() {
		st = c.prepare(st, obs)
	}
	return shape{
		deadline: deadlineOr(c.p.ProgressDeadline),
		baseline: c.p.Baseline,
		hold:     c.hold,
		step: func(st State, v view) (State, Decision) {
			return c.step(st, v, obs.Verdict)
		},
	}.next(st, obs)
}

// prepare applies what the shared rules do not know of: the verdict, a promote or resume of
// a paused canary, and the progress deadline, which only guards the climb to the instance
// count of the weight being worked towards.
func (c canary) prepare(st State, obs Observation) State {
	if obs.Verdict != nil {
		v := *obs.Verdict
		st.Verdict = &v
		if v.Outcome == analysis.Fail && !st.RollingBack && !st.AbortRequested {
			st.RollingBack = true
			st.Reason = v.Reason
			return st
		}
	}
	if st.RollingBack || st.AbortRequested {
		return st
	}
	if st.Status == StatusPaused && (st.Approved || st.PromoteFull) && !st.PauseRequested {
		st.Status = StatusRunning
		st.Reason = ""
		st.LastProgressAt = obs.Now
	}
	// Resumed (the controller left the paused phase): the current step starts over, as the
	// judge does.
	if st.Status == StatusRunning && strings.HasPrefix(st.Phase, "paused") {
		st.StepAt = obs.Now
		st.Phase = "resumed"
	}
	v := newView(st, obs, 0)
	if v.available(v.to) >= need(c.target(st), st.Replicas) && v.available(v.baseline) >= c.baselineNeed(st) {
		st.LastProgressAt = obs.Now
	}
	return st
}

// need is how many instances of To serve a weight: ceil(weight% × replicas), at least one.
func need(weight, replicas int) int {
	return max(1, (weight*replicas+99)/100)
}

// applied is the weight set by the steps before the current one.
func (c canary) applied(st State) int {
	w := 0
	for _, s := range c.steps[:min(max(st.Step-1, 0), len(c.steps))] {
		switch {
		case s.Weight != nil:
			w = *s.Weight
		case s.Ramp != nil:
			w = s.Ramp.Max
		}
	}
	return max(w, st.RampWeight)
}

// finishing reports whether the deployment is at its last step: weight 100 and promotion.
func (c canary) finishing(st State) bool {
	return st.PromoteFull || st.From == 0 || st.Step >= len(c.steps)
}

// target is the weight To is being sized for: the current weight step's, 100 when finishing,
// the applied weight otherwise.
func (c canary) target(st State) int {
	if c.finishing(st) {
		return 100
	}
	if w := c.steps[max(st.Step-1, 0)].Weight; w != nil {
		return *w
	}
	if r := c.steps[max(st.Step-1, 0)].Ramp; r != nil {
		return r.Max
	}
	return c.applied(st)
}

// withBaseline reports whether the deployment runs a baseline: the spec asks for one and
// there is a From to take it from.
func (c canary) withBaseline(st State) bool {
	return c.p.Baseline && st.From != 0
}

// baselineNeed is how many baseline instances the current step wants: as many as the
// canary's, none when finishing (the ones there keep serving until the end) or without one.
func (c canary) baselineNeed(st State) int {
	if !c.withBaseline(st) || c.finishing(st) {
		return 0
	}
	return need(c.target(st), st.Replicas)
}

// weights gives To weight w and From the rest; a first deployment has only To. A baseline
// takes as much as To out of From's share (at most what From has, should w exceed 50).
func (c canary) weights(st State, w int) map[int]int {
	if st.From == 0 {
		return map[int]int{st.To: 100}
	}
	if !c.withBaseline(st) {
		return map[int]int{st.From: 100 - w, st.To: w}
	}
	b := min(w, 100-w)
	return map[int]int{st.From: 100 - w - b, BaselineRevision(st.From): b, st.To: w}
}

// hold keeps the weight the steps have reached.
func (c canary) hold(st State, _ view) Decision {
	return Decision{Weights: c.weights(st, c.applied(st))}
}

func (c canary) step(st State, v view, verdict *analysis.Verdict) (State, Decision) {
	st.Step = max(st.Step, 1)
	n := need(c.target(st), st.Replicas)
	d := c.hold(st, v)
	d.Start = startOrder(st.To, n-len(alive(v.to)))
	nb := c.baselineNeed(st)
	d.Start, d.Stop = c.sizeBaseline(d.Start, st, v, nb)
	sizing := c.finishing(st) || c.steps[st.Step-1].Weight != nil || c.steps[st.Step-1].Ramp != nil
	avail, bavail := v.available(v.to), v.available(v.baseline)
	if (avail < n && (sizing || st.Progress < n)) || (sizing && bavail < nb) {
		st.Phase = c.startingPhase(st, avail, n)
		if nb > 0 {
			st.Phase += fmt.Sprintf(" (baseline %d/%d available)", bavail, nb)
		}
		d.Wait = v.wait(append(slices.Clone(v.to), v.baseline...), len(d.Start) > 0)
		return st, d
	}
	switch smokeOf(st, v.spec) {
	case hookToAsk:
		st.Phase = phaseSmoke
		d.Hook = HookSmoke
		fallthrough
	case hookWaiting:
		d.Preview, d.Wait = st.To, waitIdle
		return st, d
	}
	if c.finishing(st) {
		st.Step, st.StepDeadline, st.Approved = len(c.steps), time.Time{}, false
		st, done := succeed(st)
		done.Stop = append(ids(v.from), ids(v.baseline)...)
		return st, done
	}
	switch s := c.steps[st.Step-1]; {
	case s.Weight != nil:
		// One call per weight, so that each shows as a phase; the next step comes soon.
		st.Phase = fmt.Sprintf("canary %d%%", *s.Weight)
		d.Weights = c.weights(st, *s.Weight)
		d.Wait = waitStarting
		return c.done(st, v), d
	case s.Pause != nil:
		if !c.pauseDone(&st, v, s.Pause.D()) {
			return c.pause(st, v, d, s.Pause.D())
		}
	case s.Analysis != nil:
		if !c.analysisDone(&st, v, s.Analysis.Duration.D(), verdict) {
			return c.analyse(st, v, d, s.Analysis.Duration.D(), verdict)
		}
	case s.Ramp != nil:
		if !c.rampStep(&st, v, &d, *s.Ramp, verdict) {
			return st, d
		}
	}
	return c.step(c.done(st, v), v, verdict)
}

// sizeBaseline adds to start the baseline instances missing for nb and returns the broken
// baseline instances (exited or crash-looping) to stop: they are replaced, never waited for.
func (c canary) sizeBaseline(start []StartOrder, st State, v view, nb int) ([]StartOrder, []string) {
	var stop []string
	for _, in := range v.baseline {
		if in.Failed || in.CrashLoop {
			stop = append(stop, in.ID)
		}
	}
	if k := nb - len(alive(v.baseline)); k > 0 {
		start = append(start, StartOrder{Revision: st.From, Count: k, Baseline: true})
	}
	return start, stop
}

// startingPhase names the wait for instances of To.
func (c canary) startingPhase(st State, avail, n int) string {
	switch {
	case st.From == 0:
		return fmt.Sprintf("starting (%d/%d available; first deployment: no canary steps)", avail, n)
	case st.PromoteFull:
		return fmt.Sprintf("promoting: scaling canary to %d (%d/%d available)", n, avail, n)
	case c.finishing(st):
		return fmt.Sprintf("scaling canary to %d (%d/%d available)", n, avail, n)
	case c.steps[st.Step-1].Weight != nil:
		return fmt.Sprintf("starting canary for %d%% (%d/%d available)", *c.steps[st.Step-1].Weight, avail, n)
	}
	return fmt.Sprintf("starting canary (%d/%d available)", avail, n)
}

// done ends the current step; the next one begins now.
func (c canary) done(st State, v view) State {
	st.Step++
	st.StepAt = v.now
	st.StepDeadline = time.Time{}
	return st
}

// stepName renders "(step 2/6)".
func (c canary) stepName(st State) string {
	return fmt.Sprintf("(step %d/%d)", st.Step, len(c.steps))
}

// pauseDone starts the step's clock and reports whether the pause is over: its time is up
// or, for any pause, a promote came (which it uses up).
func (c canary) pauseDone(st *State, v view, dur time.Duration) bool {
	if st.StepAt.IsZero() {
		st.StepAt = v.now
	}
	if st.Approved {
		st.Approved = false
		return true
	}
	return dur > 0 && !v.now.Before(st.StepAt.Add(dur))
}

// pause waits dur from the step's start, or for a promote when dur is zero.
func (c canary) pause(st State, v view, d Decision, dur time.Duration) (State, Decision) {
	if dur == 0 {
		st.Phase = "awaiting promote " + c.stepName(st)
		d.Wait = waitIdle
		return st, d
	}
	st.Phase = fmt.Sprintf("pause %s %s", spec.Duration(dur), c.stepName(st))
	d.Wait = min(st.StepAt.Add(dur).Sub(v.now), waitIdle)
	return st, d
}

// analysisDone starts the step's clock and reports whether the analysis step is over: the
// verdict is pass, a promote came (which it uses up), or its time is up with an inconclusive
// verdict and inconclusive: pass.
func (c canary) analysisDone(st *State, v view, dur time.Duration, verdict *analysis.Verdict) bool {
	if st.StepAt.IsZero() {
		st.StepAt = v.now
	}
	st.StepDeadline = st.StepAt.Add(dur)
	switch {
	case st.Approved:
		st.Approved = false
		return true
	case verdict != nil && verdict.Outcome == analysis.Pass:
		return true
	}
	return !v.now.Before(st.StepDeadline) && c.p.Analysis.Inconclusive == spec.InconclusivePass
}

// analyse waits for a pass verdict until the step's deadline; at the deadline an inconclusive
// verdict pauses the deployment or fails it, as the analysis' inconclusive setting says.
// A fail verdict never reaches here: it rolls back first.
func (c canary) analyse(st State, v view, d Decision, dur time.Duration, verdict *analysis.Verdict) (State, Decision) {
	if v.now.Before(st.StepDeadline) {
		st.Phase = fmt.Sprintf("analysis %s: %s", c.stepName(st), verdictSummary(verdict))
		d.Wait = min(st.StepDeadline.Sub(v.now), waitIdle)
		return st, d
	}
	why := "no verdict: the canary served no traffic to judge"
	if verdict != nil {
		why = verdict.Reason
	}
	st.Reason = fmt.Sprintf("analysis %s inconclusive after %s: %s", c.stepName(st), spec.Duration(dur), why)
	if c.p.Analysis.Inconclusive == spec.InconclusiveFail {
		// The shared rules roll back at the next call, which comes at once.
		st.RollingBack = true
		d.Wait = time.Millisecond
		return st, d
	}
	st.Status = StatusPaused
	st.Phase = "paused: analysis inconclusive " + c.stepName(st)
	d.Wait = waitIdle
	return st, d
}

// verdictSummary renders the verdict's outcome for the phase. Counts stay out of it: the
// phase changes (and is recorded as an event) only when the judgement does; the verdict
// with its counts is in State.Verdict.
func verdictSummary(v *analysis.Verdict) string {
	if v == nil {
		return "waiting for canary traffic"
	}
	return string(v.Outcome)
}
