package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/deployspec"
	"github.com/cutover/cutover/internal/kubestate"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
)

// Backend is the control API of a controller replica, over the records in the cluster: any
// replica answers, the leader drives what it records.
type Backend struct{ c *Controller }

var _ api.Backend = (*Backend)(nil)

// Deploy implements api.Backend: a new revision's deployment is recorded; the leader picks
// it up within a tick.
func (b *Backend) Deploy(ctx context.Context, req api.DeployRequest) (api.Deployment, error) {
	if req.Promotion != nil {
		return api.Deployment{}, fmt.Errorf("deploy --from is not supported by the in-cluster controller: %w", api.ErrInvalid)
	}
	recs, err := b.c.deps.List(ctx, req.Service)
	if err != nil {
		return api.Deployment{}, err
	}
	s, err := b.specFor(req, recs)
	if err != nil {
		return api.Deployment{}, err
	}
	from, next := 0, 1
	for _, r := range recs {
		if !r.Ended() {
			return api.Deployment{}, fmt.Errorf("service %s has deployment %d %s: wait for it, or abort it: %w", s.Name, r.ID, r.State.Status, api.ErrConflict)
		}
		next = max(next, r.Revision+1)
	}
	if len(recs) > 0 {
		from = stableOf(recs[0])
	}
	return b.begin(ctx, s, "deploy", from, next)
}

// specFor reads the request's spec (the stable one when it gives none), with overrides.
func (b *Backend) specFor(req api.DeployRequest, recs []*kubestate.Record) (*spec.Service, error) {
	doc, file := []byte(req.Spec), req.SpecFile
	if len(doc) == 0 {
		if len(recs) == 0 {
			return nil, fmt.Errorf("service %s has never been deployed: give a spec (--spec FILE): %w", req.Service, api.ErrInvalid)
		}
		cur := recs[0].Spec
		var err error
		if doc, err = spec.Marshal(&cur); err != nil {
			return nil, fmt.Errorf("encode spec of %s: %w", req.Service, err)
		}
		file = "current spec of " + req.Service
	}
	s, err := deployspec.Build(req, doc, file)
	if err != nil {
		return nil, err
	}
	return s, clusterFit(s, file)
}

// clusterFit refuses what the in-cluster controller does not do (yet), naming the field.
func clusterFit(s *spec.Service, file string) error {
	field := ""
	switch {
	case s.Run.Image == "":
		field, s = "run.image", nil
	case s.Hooks.PreDeploy != nil:
		field = "hooks.pre_deploy"
	case s.Hooks.Smoke != nil:
		field = "hooks.smoke"
	case s.Hooks.PostPromote != nil:
		field = "hooks.post_promote"
	case s.Database != nil:
		field = "database"
	}
	if field == "" {
		return nil
	}
	msg := "not supported by the in-cluster controller"
	if field == "run.image" {
		msg = "required: the in-cluster controller runs images as pods"
	}
	return &api.ValidationError{File: file, Fields: []api.FieldError{{Path: field, Message: msg}}}
}

func (b *Backend) begin(ctx context.Context, s *spec.Service, kind string, from, to int) (api.Deployment, error) {
	now := time.Now().UTC()
	st := rollout.State{Strategy: s.Strategy.Type, From: from, To: to, Replicas: s.Replicas,
		Status: rollout.StatusRunning, Phase: "pending", StartedAt: now, LastProgressAt: now, StartedBy: api.Identity(ctx)}
	rec := &kubestate.Record{Service: s.Name, Kind: kind, Revision: to, StartedBy: st.StartedBy, Spec: *s, State: st,
		Events: []kubestate.Event{{Time: now, Type: "deployment_started",
			Message: fmt.Sprintf("%s of %s started: revision %d → %d (%s)", kind, s.Name, from, to, s.Strategy.Type),
			Data:    map[string]any{"from": from, "to": to, "strategy": s.Strategy.Type}}}}
	if err := b.c.deps.Create(ctx, rec); err != nil {
		return api.Deployment{}, err
	}
	return view(rec), nil
}

// Rollback implements api.Backend: a deployment back to an earlier revision's spec.
func (b *Backend) Rollback(ctx context.Context, service string, req api.RollbackRequest) (api.Deployment, error) {
	recs, err := b.c.deps.List(ctx, service)
	if err != nil {
		return api.Deployment{}, err
	}
	if len(recs) == 0 {
		return api.Deployment{}, fmt.Errorf("service %s: %w", service, api.ErrNotFound)
	}
	if !recs[0].Ended() {
		return api.Deployment{}, fmt.Errorf("service %s has deployment %d %s: %w", service, recs[0].ID, recs[0].State.Status, api.ErrConflict)
	}
	stable := stableOf(recs[0])
	to := req.To
	if to == 0 {
		to = stable - 1
	}
	for _, r := range recs {
		if r.Revision == to && to != stable {
			s := r.Spec
			return b.begin(ctx, &s, "rollback", stable, to)
		}
	}
	return api.Deployment{}, fmt.Errorf("service %s: no revision %d to roll back to: %w", service, to, api.ErrNotFound)
}

// Act implements api.Backend: the action is recorded on the active deployment; the leader
// applies it.
func (b *Backend) Act(ctx context.Context, service, action string) (api.Deployment, error) {
	recs, err := b.c.deps.List(ctx, service)
	if err != nil {
		return api.Deployment{}, err
	}
	if len(recs) == 0 || recs[0].Ended() {
		return api.Deployment{}, fmt.Errorf("service %s has no active deployment: %w", service, api.ErrConflict)
	}
	switch action {
	case "pause", "resume", "abort", "promote", "promote_full", "approve":
	default:
		return api.Deployment{}, fmt.Errorf("action %q is not supported by the in-cluster controller: %w", action, api.ErrInvalid)
	}
	if err := b.c.deps.AddAction(ctx, recs[0].ID, kubestate.Action{Action: action, Who: api.Identity(ctx)}); err != nil {
		return api.Deployment{}, err
	}
	return view(recs[0]), nil
}

// CheckSpec implements api.Backend.
func (b *Backend) CheckSpec(ctx context.Context, yaml []byte, file string) (api.CheckResult, error) {
	s, err := spec.Parse(yaml, file)
	if err == nil {
		err = clusterFit(s, file)
	}
	if err != nil {
		var ve *api.ValidationError
		if errors.As(deployspec.ValidationError(file, err), &ve) {
			return api.CheckResult{Errors: ve.Fields}, nil
		}
		return api.CheckResult{Errors: []api.FieldError{{Message: err.Error()}}}, nil
	}
	return api.CheckResult{Valid: true, Warnings: spec.Warnings(s)}, nil
}

// Services implements api.Backend.
func (b *Backend) Services(ctx context.Context) ([]api.Service, error) {
	recs, err := b.c.deps.List(ctx, "")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []api.Service
	for _, r := range recs {
		if seen[r.Service] {
			continue
		}
		seen[r.Service] = true
		svc, err := b.Service(ctx, r.Service)
		if err != nil {
			return nil, err
		}
		out = append(out, svc)
	}
	return out, nil
}

// Service implements api.Backend: the latest deployment, the published weights, the
// instances and every proxy replica's counts summed.
func (b *Backend) Service(ctx context.Context, name string) (api.Service, error) {
	recs, err := b.c.deps.List(ctx, name)
	if err != nil {
		return api.Service{}, err
	}
	if len(recs) == 0 {
		return api.Service{}, fmt.Errorf("service %s: %w", name, api.ErrNotFound)
	}
	last := view(recs[0])
	s := recs[0].Spec
	out := api.Service{Name: name, Stable: stableOf(recs[0]), Replicas: s.Replicas, Strategy: s.Strategy.Type,
		Listen: s.Route.Listen, Hosts: s.Route.Hosts, Paths: s.Route.Paths, Weights: map[int]int{}, Traffic: map[int]api.Counts{}}
	if !recs[0].Ended() {
		out.Deployment = &last
	} else {
		out.LastDeployment = &last
		out.Stable = stableOf(recs[0])
	}
	// The leader publishes only ready instances: one in the table is ready, and a target
	// when its revision has a share of the traffic.
	ready, target := map[string]bool{}, map[string]bool{}
	if t, _, err := b.c.routes.Read(ctx); err == nil {
		for _, g := range t.Services[name].Groups {
			out.Weights[g.Revision] = g.Weight
			for _, tg := range g.Targets {
				ready[tg.ID], target[tg.ID] = true, g.Weight > 0
			}
		}
	}
	if sts, err := b.c.driver.List(ctx); err == nil {
		for _, st := range sts {
			if st.Service == name {
				out.Instances = append(out.Instances, api.Instance{ID: st.ID, Revision: st.Revision, State: string(st.State),
					Addr: st.Addr, Ready: ready[st.ID], Live: st.State == "running", Target: target[st.ID],
					Restarts: st.Restarts, Message: st.Message, Started: st.StartedAt})
			}
		}
	}
	if reps, err := b.c.reports.List(ctx); err == nil {
		for rev, c := range kubestate.Sum(reps, name) {
			out.Traffic[rev] = api.Counts{Requests: c.Requests, Errors: c.Errors}
		}
	}
	return out, nil
}

// History implements api.Backend: each revision, from the deployment that introduced it.
func (b *Backend) History(ctx context.Context, service string) ([]api.Revision, error) {
	recs, err := b.c.deps.List(ctx, service)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("service %s: %w", service, api.ErrNotFound)
	}
	seen := map[int]bool{}
	var out []api.Revision
	for _, r := range recs {
		if seen[r.Revision] {
			continue
		}
		seen[r.Revision] = true
		hash := spec.Hash(&r.Spec)
		out = append(out, api.Revision{Service: service, Number: r.Revision, SpecHash: hash, Image: r.Spec.Run.Image,
			Command: r.Spec.Run.Command, Args: r.Spec.Run.Args, CreatedAt: r.CreatedAt, CreatedBy: r.StartedBy})
	}
	return out, nil
}

// Deployment implements api.Backend.
func (b *Backend) Deployment(ctx context.Context, id int64) (api.Deployment, error) {
	r, err := b.c.deps.Get(ctx, id)
	if errors.Is(err, kubestate.ErrNotFound) {
		return api.Deployment{}, fmt.Errorf("deployment %d: %w", id, api.ErrNotFound)
	}
	if err != nil {
		return api.Deployment{}, err
	}
	return view(r), nil
}

// Deployments implements api.Backend.
func (b *Backend) Deployments(ctx context.Context, service string, limit int) ([]api.Deployment, error) {
	recs, err := b.c.deps.List(ctx, service)
	if err != nil {
		return nil, err
	}
	out := []api.Deployment{}
	for _, r := range recs {
		if limit > 0 && len(out) >= limit {
			break
		}
		out = append(out, view(r))
	}
	return out, nil
}

// Events implements api.Backend: the events kept in the deployments' records, numbered
// deployment ID × 1,000,000 + position so that "after" works across them.
func (b *Backend) Events(ctx context.Context, q api.EventQuery) ([]api.Event, error) {
	recs, err := b.c.deps.List(ctx, q.Service)
	if err != nil {
		return nil, err
	}
	var out []api.Event
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if q.DeploymentID != 0 && r.ID != q.DeploymentID {
			continue
		}
		for j, e := range r.Events {
			id := r.ID*1_000_000 + int64(j) + 1
			if id <= q.AfterID {
				continue
			}
			out = append(out, api.Event{ID: id, Time: e.Time, Service: r.Service, DeploymentID: r.ID, Type: e.Type, Message: e.Message, Data: e.Data})
			if q.Limit > 0 && len(out) >= q.Limit {
				return out, nil
			}
		}
	}
	return out, nil
}

// Logs implements api.Backend: not served by the in-cluster controller (kubectl logs).
func (b *Backend) Logs(ctx context.Context, service string, revision int, follow bool, w io.Writer) error {
	return fmt.Errorf("logs: use kubectl logs -l cutover.dev/service=%s: %w", service, api.ErrInvalid)
}

func view(r *kubestate.Record) api.Deployment {
	st := r.State
	out := api.Deployment{ID: r.ID, Service: r.Service, Kind: r.Kind, From: st.From, To: st.To, Strategy: st.Strategy,
		Status: string(st.Status), Phase: st.Phase, Step: st.Step, Reason: st.Reason, StartedBy: st.StartedBy,
		ApprovedBy: st.ApprovedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.CreatedAt}
	if n := len(r.Events); n > 0 {
		out.UpdatedAt = r.Events[n-1].Time
		if r.Ended() {
			out.FinishedAt = out.UpdatedAt
		}
	}
	if v := st.Verdict; v != nil {
		ev, _ := json.Marshal(v.Evidence)
		out.Verdict = &api.Verdict{Outcome: string(v.Outcome), Rule: string(v.Rule), Reason: v.Reason,
			Summary: analysis.Describe(*v), Evidence: ev}
	}
	return out
}
