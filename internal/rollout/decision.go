// Package rollout owns deployments: the strategies (recreate, rolling, blue-green, canary, and
// the warm rollback's switch) as pure functions from persisted state and the latest
// observation to a decision, and the controller that carries decisions out through the
// interfaces it declares (Instances, Traffic, Recorder, SwitchRecorder). It does not know
// which runtime, proxy or store sits behind them.
package rollout

import (
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/spec"
)

// Status of a deployment.
type Status string

// Deployment statuses. Running and Paused are active; the others are final.
const (
	StatusRunning    Status = "running"
	StatusPaused     Status = "paused"
	StatusSucceeded  Status = "succeeded"
	StatusFailed     Status = "failed"      // failed and left as is (on_failure: pause then abort is rolled_back)
	StatusRolledBack Status = "rolled_back" // failed, traffic and instances returned to the old revision
	StatusAborted    Status = "aborted"     // stopped by the operator, returned to the old revision
)

// Active reports whether a deployment in this status still needs the controller.
func (s Status) Active() bool { return s == StatusRunning || s == StatusPaused }

// Hook names.
const (
	HookPreDeploy   = "pre_deploy"
	HookSmoke       = "smoke"
	HookPostPromote = "post_promote"
)

// State is a deployment's persisted progress: everything a strategy needs besides the
// observation. Strategies return an updated copy; the controller persists it after each act.
type State struct {
	Strategy string `json:"strategy"`
	// From is the revision serving when the deployment began (0 for a first deployment);
	// To the revision being introduced.
	From     int `json:"from"`
	To       int `json:"to"`
	Replicas int `json:"replicas"`

	Status Status `json:"status"`
	// Phase is the strategy's current stage, shown to people ("starting", "switching", ...).
	Phase  string `json:"phase"`
	Step   int    `json:"step"`
	Reason string `json:"reason,omitempty"`

	StartedAt      time.Time `json:"started_at"`
	LastProgressAt time.Time `json:"last_progress_at"`
	// Progress is the strategy's measure of progress (e.g. new instances available); a rise
	// moves LastProgressAt.
	Progress   int       `json:"progress"`
	SwitchedAt time.Time `json:"switched_at,omitzero"`
	StepAt     time.Time `json:"step_at,omitzero"`

	// Operator requests, set by the API and consumed by strategies.
	PauseRequested bool `json:"pause_requested,omitempty"`
	Approved       bool `json:"approved,omitempty"`
	AbortRequested bool `json:"abort_requested,omitempty"`
	// RollingBack is set once the strategy has begun returning to From.
	RollingBack bool `json:"rolling_back,omitempty"`

	// StartedBy names the token that started the deployment. With ApprovalRequired nothing
	// starts until a token of another name approves it; ApprovedBy names that token.
	StartedBy        string `json:"started_by,omitempty"`
	ApprovalRequired bool   `json:"approval_required,omitempty"`
	ApprovedBy       string `json:"approved_by,omitempty"`

	// Promoted is set while the strategy has succeeded and the post_promote hook has yet to
	// run (Status running, Phase post_promote); the deployment succeeds when its outcome is
	// recorded.
	Promoted bool `json:"promoted,omitempty"`
	// Hooks holds the result of each hook that has run: "passed" or "failed: <reason>".
	Hooks map[string]string `json:"hooks,omitempty"`

	// PromoteFull is set by the controller for `cutover promote --full`: a canary skips its
	// remaining steps and goes to weight 100.
	PromoteFull bool `json:"promote_full,omitempty"`
	// Verdict is the canary's last verdict from the judge, kept for status display.
	Verdict *analysis.Verdict `json:"verdict,omitempty"`
	// StepDeadline is when the current canary analysis step's duration ends; zero outside an
	// analysis step. From then on Observation.Verdict should be the judge's final verdict
	// (Judge.Final), so that an analysis step passes on min_requests at its end.
	StepDeadline time.Time `json:"step_deadline,omitzero"`
	// RampWeight is the share a canary's ramp step serves now (0 outside one); the judge's
	// margin tests (stored with it) began with that share.
	RampWeight int `json:"ramp_weight,omitempty"`
	// Judge is the canary judge's evidence, written with every step so that a restarted
	// daemon (kill -9, hand-off) resumes the judgement rather than starting afresh; nil for
	// other strategies and once the deployment has ended.
	Judge *JudgeState `json:"judge,omitempty"`
}

// Instance is what a strategy sees of one instance of the service.
type Instance struct {
	ID       string
	Revision int
	// Ready: passing readiness (and startup) now; ReadySince: when it became ready.
	Ready      bool
	ReadySince time.Time
	// CrashLoop: the runtime reports it crashing repeatedly. Failed: it exited for good
	// or its start failed.
	CrashLoop bool
	Failed    bool
	Message   string
	StartedAt time.Time
	// Baseline marks a fresh instance of From started by a canary deployment to be compared
	// with the canary; it is never part of From's stable capacity.
	Baseline bool
}

// Available reports whether the instance has been ready for at least minReady at now.
func (i Instance) Available(now time.Time, minReady time.Duration) bool {
	return i.Ready && !i.ReadySince.IsZero() && now.Sub(i.ReadySince) >= minReady
}

// Observation is the world as the controller saw it just before calling a strategy.
// Instances excludes instances already being stopped.
type Observation struct {
	Now       time.Time
	Spec      spec.Service
	Instances []Instance
	// Verdict is the judge's current verdict on the canary since the deployment started (or
	// resumed), nil when there is none yet; Judge.Final once State.StepDeadline has passed.
	Verdict *analysis.Verdict
}

// Decision is what a strategy wants done now. The controller does it in this order:
// start, traffic, hook, stop; then persists State.
type Decision struct {
	// Start asks for this many new instances of a revision.
	Start []StartOrder
	// Weights, when non-nil, sets each revision's share of traffic (revisions absent get 0).
	// A canary's baseline instances get theirs under BaselineRevision(From).
	// Nil means: traffic spread over every ready instance equally, whatever its revision.
	Weights map[int]int
	// Preview, when non-zero, sends preview requests (header or preview listener) to this revision.
	Preview int
	// Hook, when set, runs that hook; its result is stored in State.Hooks before the next call.
	Hook string
	// Stop lists instance IDs to drain and stop.
	Stop []string
	// Wait is the longest the controller may wait before calling the strategy again.
	Wait time.Duration
	// Margin, when above 0, starts the canary judge's margin tests afresh at that margin (an
	// evidence-paced ramp's new share; analysis.Judge.StartMargin); below 0 stops them.
	Margin float64
}

// StartOrder asks for Count new instances of Revision; Baseline marks them as a canary's
// baseline (Revision is then From).
type StartOrder struct {
	Revision int
	Count    int
	Baseline bool
}

// BaselineRevision is the pseudo revision under which a canary's baseline instances of the
// revision from get their traffic weight and counters: -from.
func BaselineRevision(from int) int { return -from }

// Strategy computes the next decision. It must be pure: no clock but obs.Now, no I/O.
// The returned State replaces the old one; a final Status ends the deployment.
type Strategy func(st State, obs Observation) (State, Decision)
