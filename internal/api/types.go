// Package api owns the control API: the JSON wire types, the HTTP handlers (bearer-token
// protected) over a Backend that the daemon implements, and the Go client the CLI uses.
// It maps errors to statuses at its edge and holds no state of its own.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// DeployRequest asks for a new revision of a service to be deployed.
type DeployRequest struct {
	Service string `json:"service"`
	// Spec is the spec file's YAML text; empty reuses the service's current spec.
	Spec string `json:"spec,omitempty"`
	// SpecFile names the file Spec came from, for error messages.
	SpecFile string `json:"spec_file,omitempty"`
	// Set holds "path=value" overrides ("run.command=./app", "replicas=3").
	Set []string `json:"set,omitempty"`
	// Env holds "KEY=VALUE" overrides of run.env.
	Env   []string `json:"env,omitempty"`
	Image string   `json:"image,omitempty"`
	// Message is recorded with the revision. Who is ignored: the daemon records the name of
	// the token that made the request (Identity).
	Who     string `json:"who,omitempty"`
	Message string `json:"message,omitempty"`
	// Promotion, instead of Spec, deploys a revision that succeeded in another environment
	// (`deploy --from`): its spec, with this environment's run.env, hooks' env and route.
	Promotion *Promotion `json:"promotion,omitempty"`
}

// RollbackRequest asks to return a service to an earlier revision (To 0: the one before stable).
type RollbackRequest struct {
	To int `json:"to,omitempty"`
	// Who is ignored: the daemon records the name of the token that made the request.
	Who string `json:"who,omitempty"`
	// Force rolls back to a revision that predates an applied database contract part
	// (refused otherwise); it needs a Reason, recorded as a rollback_forced event.
	Force  bool   `json:"force,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Deployment is one attempt to move a service to a new revision.
type Deployment struct {
	ID       int64  `json:"id"`
	Service  string `json:"service"`
	Kind     string `json:"kind"` // deploy | rollback
	From     int    `json:"from"`
	To       int    `json:"to"`
	Strategy string `json:"strategy"`
	Status   string `json:"status"`
	Phase    string `json:"phase"`
	Step     int    `json:"step"`
	Reason   string `json:"reason,omitempty"`
	// Steps names a canary's steps (Step counts them from 1; those before it are done);
	// StepStartedAt is when the current one began. Set on a service's deployment.
	Steps         []string  `json:"steps,omitempty"`
	StepStartedAt time.Time `json:"step_started_at,omitzero"`
	// Deadline is when a running deployment that makes no more progress fails
	// (progress_deadline after its last progress); zero once it has ended.
	Deadline time.Time `json:"deadline,omitzero"`
	// StartedBy names the token that started it; ApprovedBy the one that approved it, when
	// the daemon requires approvals (serve --require-approval).
	StartedBy  string `json:"started_by,omitempty"`
	ApprovedBy string `json:"approved_by,omitempty"`
	// Warnings are things worth knowing that did not stop the deployment (recreate downtime).
	Warnings []string `json:"warnings,omitempty"`
	// Verdict is a canary's latest judgement, with its evidence; once the deployment has
	// ended, the judge's final one.
	Verdict    *Verdict  `json:"verdict,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Verdict is the judgement of a canary: pass, fail or inconclusive, the rule that decided,
// a sentence for people and the evidence (counts, ratio and its bounds, e-values).
type Verdict struct {
	Outcome string `json:"outcome"`
	Rule    string `json:"rule,omitempty"`
	Reason  string `json:"reason"`
	// Summary is the verdict for people, from analysis.Describe: what was compared over how
	// many requests, the rule and what it is, the figures.
	Summary  string          `json:"summary,omitempty"`
	Evidence json.RawMessage `json:"evidence,omitempty"`
}

// Final reports whether the deployment has ended.
func (d Deployment) Final() bool { return d.Status != "running" && d.Status != "paused" }

// Service is a service's status: revisions live, instances, weights, current deployment.
type Service struct {
	Name     string `json:"name"`
	Stable   int    `json:"stable"`
	Replicas int    `json:"replicas"`
	Strategy string `json:"strategy"`
	Listen   string `json:"listen"`
	// URL is where the route can be reached from this machine.
	URL        string      `json:"url"`
	Hosts      []string    `json:"hosts,omitempty"`
	Paths      []string    `json:"paths,omitempty"`
	Weights    map[int]int `json:"weights"`
	Instances  []Instance  `json:"instances"`
	Deployment *Deployment `json:"deployment,omitempty"`
	// LastDeployment is the service's most recent deployment when none is active: how it
	// ended, with its verdict for a canary.
	LastDeployment *Deployment    `json:"last_deployment,omitempty"`
	Traffic        map[int]Counts `json:"traffic,omitempty"`
	// Database is set when the spec has a database section (migrations to show).
	Database bool `json:"database,omitempty"`
}

// Counts are the proxy's request counts for one revision since the daemon started.
type Counts struct {
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
}

// Instance is one running process, container or pod of a revision.
type Instance struct {
	ID       string    `json:"id"`
	Revision int       `json:"revision"`
	State    string    `json:"state"`
	Addr     string    `json:"addr"`
	Ready    bool      `json:"ready"`
	Live     bool      `json:"live"`
	Target   bool      `json:"target"` // receiving traffic from the proxy
	Restarts int       `json:"restarts"`
	Message  string    `json:"message,omitempty"`
	Started  time.Time `json:"started_at,omitzero"`
	// CPUPercent is its CPU use over the last sampling interval (100: one core busy) and
	// MemoryBytes its resident memory, read from /proc for a process on this host (a process
	// instance or a container's main process); absent when unknown.
	CPUPercent  *float64 `json:"cpu_percent,omitempty"`
	MemoryBytes int64    `json:"memory_bytes,omitempty"`
}

// Revision is one immutable, numbered version of a service. Secret env values are redacted.
type Revision struct {
	Service  string            `json:"service"`
	Number   int               `json:"number"`
	SpecHash string            `json:"spec_hash"`
	Command  string            `json:"command,omitempty"`
	Args     []string          `json:"args,omitempty"`
	Image    string            `json:"image,omitempty"`
	Env      map[string]string `json:"env,omitempty"`
	// Secrets names the secrets store's values the revision uses, each with its version.
	Secrets   map[string]int `json:"secrets,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	CreatedBy string         `json:"created_by,omitempty"`
	Message   string         `json:"message,omitempty"`
	// ApprovedBy names the token that approved its latest approved deployment, if any.
	ApprovedBy string `json:"approved_by,omitempty"`
	// Stable marks the revision serving now; Warm one whose instances still run.
	Stable bool `json:"stable"`
	Warm   bool `json:"warm"`
}

// Event is one recorded transition.
type Event struct {
	ID           int64          `json:"id"`
	Time         time.Time      `json:"time"`
	Service      string         `json:"service"`
	DeploymentID int64          `json:"deployment_id,omitempty"`
	Type         string         `json:"type"`
	Message      string         `json:"message"`
	Data         map[string]any `json:"data,omitempty"`
}

// EventQuery selects events: those after AfterID, for a service and/or deployment.
type EventQuery struct {
	Service      string
	DeploymentID int64
	AfterID      int64
	Limit        int
}

// CheckResult is the answer to a spec check.
type CheckResult struct {
	Valid    bool         `json:"valid"`
	Errors   []FieldError `json:"errors,omitempty"`
	Warnings []string     `json:"warnings,omitempty"`
}

// FieldError is one problem with one field of a spec.
type FieldError struct {
	Path    string `json:"path"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

func (e FieldError) String() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", e.Path, e.Line, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Message)
}

// ErrorBody is the JSON body of every non-2xx answer.
type ErrorBody struct {
	Error  string       `json:"error"`
	Fields []FieldError `json:"fields,omitempty"`
	// MissingRole is, in a 403, the role the route needs.
	MissingRole string `json:"missing_role,omitempty"`
}

// Errors a Backend returns (wrapped) so the handlers can choose the status.
var (
	ErrNotFound     = errors.New("not found")     // 404
	ErrConflict     = errors.New("conflict")      // 409
	ErrInvalid      = errors.New("invalid input") // 400
	ErrUnauthorized = errors.New("unauthorized")  // 401, from the client
	ErrForbidden    = errors.New("forbidden")     // 403: the token's role does not allow it
)

// ValidationError carries every field error of a rejected spec (400).
type ValidationError struct {
	File   string
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	msg := "invalid spec"
	if e.File != "" {
		msg += " " + e.File
	}
	for _, f := range e.Fields {
		msg += "\n  " + f.String()
	}
	return msg
}
