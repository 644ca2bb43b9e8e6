package rollout

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// Instances is what the controller needs of the service's instances.
type Instances interface {
	// Observe returns the service's instances that are not being stopped.
	Observe(ctx context.Context, service string) ([]Instance, error)
	// Start creates count instances of the revision for the deployment, marked as a canary's
	// baseline when baseline is set; it returns once they are created (not ready).
	Start(ctx context.Context, service string, revision, count int, deploymentID int64, baseline bool) error
	// Stop takes the instances out of traffic, drains and stops them. It returns once they
	// are marked for stopping; the stop itself may finish later.
	Stop(ctx context.Context, service string, ids []string) error
}

// Traffic sets how the proxy splits a service's traffic between revisions.
type Traffic interface {
	// SetWeights applies weights (nil: spread over every ready instance) and the preview revision.
	SetWeights(ctx context.Context, service string, weights map[int]int, preview int) error
}

// Recorder keeps deployments and their events.
type Recorder interface {
	// SaveState persists the deployment's state; the controller calls it after each act.
	SaveState(ctx context.Context, d *Deployment) error
	// Event records one transition of the deployment for people and webhooks.
	Event(ctx context.Context, d *Deployment, typ, message string, data map[string]any)
}

// HookRunner runs one of the spec's hooks for a deployment.
type HookRunner interface {
	RunHook(ctx context.Context, d *Deployment, name string, hook spec.Hook) error
}

// Deployment is one deployment as the controller drives it.
type Deployment struct {
	ID      int64
	Service string
	// Spec is the spec of the revision being introduced.
	Spec  spec.Service
	State State
}

// Action is an operator request for a running deployment.
type Action string

// Operator actions.
const (
	ActionPause       Action = "pause"
	ActionResume      Action = "resume"
	ActionAbort       Action = "abort"
	ActionPromote     Action = "promote"
	ActionPromoteFull Action = "promote_full"
	ActionApprove     Action = "approve"
)

// Controller drives deployments by calling their strategy and carrying out its decisions.
type Controller struct {
	instances Instances
	traffic   Traffic
	recorder  Recorder
	hooks     HookRunner
	metrics   Metrics
	logger    *slog.Logger
	now       func() time.Time
	// Tick is the longest wait between two looks at a deployment.
	tick time.Duration
}

// Config tunes a Controller.
type Config struct {
	// Tick bounds the wait between two evaluations (default 1s); strategies ask for less.
	Tick time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewController returns a controller over the given parts.
func NewController(in Instances, tr Traffic, rec Recorder, hooks HookRunner, metrics Metrics, logger *slog.Logger, cfg Config) *Controller {
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Controller{instances: in, traffic: tr, recorder: rec, hooks: hooks, metrics: metrics, logger: logger, now: cfg.Now, tick: cfg.Tick}
}

// Request is an operator action delivered to Drive, answered on Done with the resulting error.
// Who names the token that asked (an approval is refused from the one that started).
type Request struct {
	Action Action
	Who    string
	Done   chan error
}

// Drive runs the deployment until its status is final or ctx is done. wake prompts an early
// look (an instance became ready); requests carries operator actions. It returns the final
// deployment, or ctx's error with the deployment parked at its last persisted state.
func (c *Controller) Drive(ctx context.Context, d *Deployment, wake <-chan struct{}, requests <-chan Request) error {
	// Nothing starts before an approval that is required (the daemon awaits it before the
	// migrations too; here it holds for any caller).
	if err := c.AwaitApproval(ctx, d, requests); err != nil || !d.State.Status.Active() {
		return err
	}
	strategy := For(d.Spec.Strategy)
	log := c.logger.With("service", d.Service, "deployment_id", d.ID)
	judge, err := newJudge(d)
	if err != nil {
		d.State.Status, d.State.Reason, d.State.Phase = StatusFailed, err.Error(), "failed"
		c.recorder.Event(ctx, d, "deployment_failed", d.State.Reason, nil)
		return c.recorder.SaveState(ctx, d)
	}
	if err := judge.resume(d.State.Judge); err != nil {
		log.Warn("canary judge not resumed: judging afresh", "error", err)
		c.recorder.Event(ctx, d, "analysis_restarted", "the canary judge's stored evidence could not be read, judging afresh: "+err.Error(), nil)
	}
	for d.State.Status.Active() {
		wait, err := c.step(ctx, d, strategy, judge)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Warn("deployment step", "error", err)
			wait = c.tick
		}
		if !d.State.Status.Active() {
			break
		}
		if err := c.sleep(ctx, d, wait, wake, requests); err != nil {
			return err
		}
	}
	return nil
}

// sleep waits for the next look, applying operator requests that arrive meanwhile.
func (c *Controller) sleep(ctx context.Context, d *Deployment, wait time.Duration, wake <-chan struct{}, requests <-chan Request) error {
	if wait <= 0 || wait > c.tick {
		wait = c.tick
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case <-wake:
	case r := <-requests:
		r.Done <- c.apply(ctx, d, r)
	}
	return nil
}

// apply records an operator action in the state, persisted before it is acknowledged.
func (c *Controller) apply(ctx context.Context, d *Deployment, r Request) error {
	a := r.Action
	if d.State.AwaitingApproval() || a == ActionApprove {
		return c.applyWhileAwaiting(ctx, d, r)
	}
	st := &d.State
	switch a {
	case ActionPause:
		st.PauseRequested = true
	case ActionResume:
		if st.Status != StatusPaused && !st.PauseRequested {
			return fmt.Errorf("deployment %d is not paused", d.ID)
		}
		st.PauseRequested = false
		st.Status = StatusRunning
		st.LastProgressAt = c.now()
		st.Reason = ""
	case ActionAbort:
		st.AbortRequested = true
		st.PauseRequested = false
		if st.Status == StatusPaused {
			st.Status = StatusRunning
		}
	case ActionPromote:
		st.Approved = true
	case ActionPromoteFull:
		st.Approved, st.PromoteFull = true, true
	default:
		return fmt.Errorf("unknown action %q", a)
	}
	if err := c.recorder.SaveState(ctx, d); err != nil {
		return fmt.Errorf("%s deployment %d: %w", a, d.ID, err)
	}
	c.recorder.Event(ctx, d, "deployment_"+string(a)+"_requested", fmt.Sprintf("%s requested", a), nil)
	return nil
}

// step runs one observe → decide → act → persist round and returns how long to wait.
func (c *Controller) step(ctx context.Context, d *Deployment, strategy Strategy, judge *canaryJudge) (time.Duration, error) {
	if done, err := c.preDeploy(ctx, d); !done || err != nil {
		return 0, err
	}
	if d.State.Promoted {
		return 0, c.finishPromotion(ctx, d)
	}
	insts, err := c.instances.Observe(ctx, d.Service)
	if err != nil {
		return 0, fmt.Errorf("observe: %w", err)
	}
	before := d.State
	before.Hooks = maps.Clone(d.State.Hooks)
	now := c.now()
	next, dec := strategy(d.State, Observation{Now: now, Spec: d.Spec, Instances: insts, Verdict: c.verdict(ctx, judge, d, now)})
	d.State = next
	if !next.Status.Active() {
		if v := c.finalVerdict(judge, d); v != nil {
			d.State.Verdict = v
		}
	}
	judge.startMargin(dec.Margin)
	judge.store(&d.State)
	if err := c.act(ctx, d, dec); err != nil {
		return 0, err
	}
	holdForPostPromote(&d.State, d.Spec)
	c.recordChanges(ctx, d, before)
	if err := c.recorder.SaveState(ctx, d); err != nil {
		return 0, fmt.Errorf("save state: %w", err)
	}
	if d.State.Promoted {
		return 0, c.finishPromotion(ctx, d)
	}
	return dec.Wait, nil
}

// holdForPostPromote keeps a deployment that its strategy has just promoted running, in phase
// post_promote, while a post_promote hook has yet to run: nobody waiting for the deployment
// is told it has finished before the hook has, and a daemon killed before the hook's outcome
// is recorded runs it on restart (at least once).
func holdForPostPromote(st *State, svc spec.Service) {
	if st.Status != StatusSucceeded || svc.Hooks.PostPromote == nil || st.Hooks[HookPostPromote] != "" {
		return
	}
	st.Status, st.Phase, st.Promoted = StatusRunning, phasePostPromote, true
}

// finishPromotion runs the post_promote hook of a promoted deployment and records its
// outcome and the deployment's success in one commit. A failed hook is recorded, not rolled
// back: the new revision already serves all traffic.
func (c *Controller) finishPromotion(ctx context.Context, d *Deployment) error {
	before := d.State
	if d.State.Hooks[HookPostPromote] == "" {
		c.runHook(ctx, d, HookPostPromote)
	}
	if ctx.Err() != nil {
		return ctx.Err() // the hook was cut short by shutdown: it runs again on restart
	}
	d.State.Status, d.State.Phase, d.State.Promoted = StatusSucceeded, phasePromoted, false
	c.recordChanges(ctx, d, before)
	if err := c.recorder.SaveState(ctx, d); err != nil {
		return fmt.Errorf("save state after post_promote: %w", err)
	}
	return nil
}

// act carries a decision out in the documented order: start, traffic, hook, stop.
func (c *Controller) act(ctx context.Context, d *Deployment, dec Decision) error {
	for _, o := range dec.Start {
		if o.Count <= 0 {
			continue
		}
		if err := c.instances.Start(ctx, d.Service, o.Revision, o.Count, d.ID, o.Baseline); err != nil {
			return fmt.Errorf("start %d instances of revision %d: %w", o.Count, o.Revision, err)
		}
	}
	if err := c.traffic.SetWeights(ctx, d.Service, dec.Weights, dec.Preview); err != nil {
		return fmt.Errorf("set weights: %w", err)
	}
	if dec.Hook != "" {
		c.runHook(ctx, d, dec.Hook)
	}
	if len(dec.Stop) > 0 {
		if err := c.instances.Stop(ctx, d.Service, dec.Stop); err != nil {
			return fmt.Errorf("stop instances: %w", err)
		}
	}
	return nil
}

// preDeploy runs the pre_deploy hook once; a failure ends the deployment before anything starts.
func (c *Controller) preDeploy(ctx context.Context, d *Deployment) (bool, error) {
	h := d.Spec.Hooks.PreDeploy
	if h == nil || d.State.Hooks[HookPreDeploy] != "" {
		return true, nil
	}
	res := c.runHook(ctx, d, HookPreDeploy)
	if res != "passed" {
		d.State.Status = StatusFailed
		d.State.Reason = "pre_deploy hook " + res
		d.State.Phase = "failed"
		c.recorder.Event(ctx, d, "deployment_failed", d.State.Reason, nil)
	}
	return res == "passed", c.recorder.SaveState(ctx, d)
}

// runHook runs a hook and stores its result in the state.
func (c *Controller) runHook(ctx context.Context, d *Deployment, name string) string {
	var h *spec.Hook
	switch name {
	case HookPreDeploy:
		h = d.Spec.Hooks.PreDeploy
	case HookSmoke:
		h = d.Spec.Hooks.Smoke
	case HookPostPromote:
		h = d.Spec.Hooks.PostPromote
	}
	res := "passed"
	if h == nil {
		res = "failed: no " + name + " hook in the spec"
	} else if err := c.hooks.RunHook(ctx, d, name, *h); err != nil {
		res = "failed: " + err.Error()
	}
	if d.State.Hooks == nil {
		d.State.Hooks = map[string]string{}
	}
	d.State.Hooks[name] = res
	typ := "hook_passed"
	if res != "passed" {
		typ = "hook_failed"
	}
	c.recorder.Event(ctx, d, typ, name+" hook "+res, map[string]any{"hook": name})
	return res
}

// recordChanges records an event for each visible change of phase or status.
func (c *Controller) recordChanges(ctx context.Context, d *Deployment, before State) {
	st := d.State
	if st.Phase != before.Phase && st.Status == before.Status {
		c.recorder.Event(ctx, d, "deployment_progress", st.Phase, map[string]any{"phase": st.Phase})
	}
	if st.Status != before.Status {
		msg := string(st.Status)
		if st.Reason != "" {
			msg += ": " + st.Reason
		}
		c.recorder.Event(ctx, d, "deployment_"+string(st.Status), msg, map[string]any{"phase": st.Phase, "reason": st.Reason})
	}
	if st.RollingBack && !before.RollingBack {
		c.recorder.Event(ctx, d, "deployment_rolling_back", "rolling back to revision "+fmt.Sprint(st.From)+": "+st.Reason, nil)
	}
}
