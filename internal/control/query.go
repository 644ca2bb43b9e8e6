package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/deployspec"
	"github.com/cutover/cutover/internal/redact"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// Services implements api.Backend.
func (b *Backend) Services(ctx context.Context) ([]api.Service, error) {
	svcs, err := b.store.ListServices(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.Service, 0, len(svcs))
	for _, s := range svcs {
		v, err := b.Service(ctx, s.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Service implements api.Backend.
func (b *Backend) Service(ctx context.Context, name string) (api.Service, error) {
	rec, err := b.store.GetService(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return api.Service{}, fmt.Errorf("service %s: %w", name, api.ErrNotFound)
	} else if err != nil {
		return api.Service{}, err
	}
	var sp spec.Service
	if err := json.Unmarshal(rec.Spec, &sp); err != nil {
		return api.Service{}, fmt.Errorf("decode spec of %s: %w", name, err)
	}
	out := api.Service{Name: name, Stable: rec.Stable, Replicas: sp.Replicas, Strategy: sp.Strategy.Type,
		Listen: sp.Route.Listen, URL: "http://" + spec.DialAddr(sp.Route.Listen), Hosts: sp.Route.Hosts, Paths: sp.Route.Paths,
		Weights: b.fleet.Weights(name), Traffic: map[int]api.Counts{}, Database: sp.Database != nil}
	for rev, c := range b.proxy.Stats(name) {
		out.Traffic[rev] = api.Counts{Requests: c.Requests, Errors: c.Errors + c.ConnectErrors + c.Timeouts}
	}
	out.Instances = b.instanceViews(name)
	if active, err := b.store.ActiveDeployment(ctx, name); err == nil {
		dep, err := deploymentView(active)
		if err != nil {
			return api.Service{}, err
		}
		b.fromSpec(ctx, &dep, active)
		out.Deployment = &dep
	} else if !errors.Is(err, store.ErrNotFound) {
		return api.Service{}, err
	} else if out.LastDeployment, err = b.lastDeployment(ctx, name); err != nil {
		return api.Service{}, err
	}
	return out, nil
}

// fromSpec sets what a deployment's view takes from its revision's spec: a canary's Steps,
// and the Deadline of one still running (progress_deadline after its last progress). Left
// unset when the revision or the state cannot be read: they are only shown.
func (b *Backend) fromSpec(ctx context.Context, d *api.Deployment, rec store.Deployment) {
	if d == nil || d.To == 0 {
		return
	}
	rev, err := b.store.GetRevision(ctx, d.Service, d.To)
	if err != nil {
		return
	}
	var sp spec.Service
	if json.Unmarshal(rev.Spec, &sp) != nil {
		return
	}
	d.Steps = rollout.StepNames(sp.Strategy)
	var st rollout.State
	if !d.Final() && json.Unmarshal(rec.State, &st) == nil && !st.LastProgressAt.IsZero() && st.Progress < st.Replicas {
		d.Deadline = st.LastProgressAt.Add(rollout.ProgressDeadline(sp.Strategy)).UTC()
	}
}

// lastDeployment is the service's newest deployment, nil when it has none.
func (b *Backend) lastDeployment(ctx context.Context, service string) (*api.Deployment, error) {
	recs, err := b.store.ListDeployments(ctx, service, 1)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	dep, err := deploymentView(recs[0])
	if err != nil {
		return nil, err
	}
	b.fromSpec(ctx, &dep, recs[0])
	return &dep, nil
}

func (b *Backend) instanceViews(name string) []api.Instance {
	var out []api.Instance
	for _, in := range b.fleet.InstanceViews(name) {
		out = append(out, api.Instance{ID: in.ID, Revision: in.Revision, State: in.State, Addr: in.Addr,
			Ready: in.Ready, Live: in.Live, Target: in.Target, Restarts: in.Restarts, Message: in.Message, Started: in.Started})
		if b.usage == nil {
			continue
		}
		if cpu, mem, ok := b.usage(in.ID); ok {
			out[len(out)-1].CPUPercent, out[len(out)-1].MemoryBytes = &cpu, mem
		}
	}
	return out
}

// History implements api.Backend; secret env values are redacted.
func (b *Backend) History(ctx context.Context, service string) ([]api.Revision, error) {
	svc, err := b.store.GetService(ctx, service)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("service %s: %w", service, api.ErrNotFound)
	} else if err != nil {
		return nil, err
	}
	revs, err := b.store.ListRevisions(ctx, service)
	if err != nil {
		return nil, err
	}
	warm := b.fleet.Warm(service)
	approved, err := b.approvals(ctx, service)
	if err != nil {
		return nil, err
	}
	out := make([]api.Revision, 0, len(revs))
	for _, r := range revs {
		var rs spec.Service
		if err := json.Unmarshal(r.Spec, &rs); err != nil {
			return nil, fmt.Errorf("decode revision %d: %w", r.Number, err)
		}
		out = append(out, api.Revision{Service: service, Number: r.Number, SpecHash: r.SpecHash, Command: rs.Run.Command,
			Args: rs.Run.Args, Image: rs.Run.Image, Env: rs.Run.Redacted(), Secrets: rs.Run.SecretVersions, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy,
			Message: r.Message, Stable: r.Number == svc.Stable, Warm: warm[r.Number], ApprovedBy: approved[r.Number]})
	}
	return out, nil
}

// Deployment implements api.Backend.
func (b *Backend) Deployment(ctx context.Context, id int64) (api.Deployment, error) {
	rec, err := b.store.GetDeployment(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return api.Deployment{}, fmt.Errorf("deployment %d: %w", id, api.ErrNotFound)
	} else if err != nil {
		return api.Deployment{}, err
	}
	dep, err := deploymentView(rec)
	if err == nil {
		b.fromSpec(ctx, &dep, rec)
	}
	return dep, err
}

// Deployments implements api.Backend.
func (b *Backend) Deployments(ctx context.Context, service string, limit int) ([]api.Deployment, error) {
	recs, err := b.store.ListDeployments(ctx, service, limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.Deployment, 0, len(recs))
	for _, r := range recs {
		v, err := deploymentView(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func deploymentView(rec store.Deployment) (api.Deployment, error) {
	var st rollout.State
	if err := json.Unmarshal(rec.State, &st); err != nil {
		return api.Deployment{}, fmt.Errorf("decode deployment %d: %w", rec.ID, err)
	}
	return toAPIDeployment(rec, st), nil
}

// Events implements api.Backend.
func (b *Backend) Events(ctx context.Context, q api.EventQuery) ([]api.Event, error) {
	evs, err := b.store.ListEvents(ctx, store.EventFilter{Service: q.Service, DeploymentID: q.DeploymentID, AfterID: q.AfterID, Limit: q.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]api.Event, 0, len(evs))
	for _, e := range evs {
		v := api.Event{ID: e.ID, Time: e.Time, Service: e.Service, DeploymentID: e.DeploymentID, Type: e.Type, Message: e.Message}
		if len(e.Data) > 0 {
			_ = json.Unmarshal(e.Data, &v.Data)
		}
		out = append(out, v)
	}
	return out, nil
}

// CheckSpec implements api.Backend.
func (b *Backend) CheckSpec(ctx context.Context, yaml []byte, file string) (api.CheckResult, error) {
	return CheckSpec(yaml, file), nil
}

// CheckSpec validates a spec without a daemon, for `cutover spec check`.
func CheckSpec(yaml []byte, file string) api.CheckResult {
	s, err := spec.Parse(yaml, file)
	if err != nil {
		var ve *api.ValidationError
		if errors.As(deployspec.ValidationError(file, err), &ve) {
			return api.CheckResult{Errors: ve.Fields}
		}
		return api.CheckResult{Errors: []api.FieldError{{Message: err.Error()}}}
	}
	return api.CheckResult{Valid: true, Warnings: spec.Warnings(s)}
}

// Logs implements api.Backend: each instance's output, every line prefixed with its ID and
// the service's secret values hidden.
func (b *Backend) Logs(ctx context.Context, service string, revision int, follow bool, w io.Writer) error {
	ids, err := b.fleet.LogSources(ctx, service, revision)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		if _, err := b.store.GetService(ctx, service); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("service %s: %w", service, api.ErrNotFound)
		}
		return nil
	}
	red, err := b.logRedactor(ctx, service)
	if err != nil {
		return err
	}
	return b.fleet.Logs(ctx, ids, follow, red.Redact, w)
}

// logRedactor hides in instance output the secret values of every revision of service that
// history keeps: an instance prints what its own revision's env holds.
func (b *Backend) logRedactor(ctx context.Context, service string) (redact.Redactor, error) {
	revs, err := b.store.ListRevisions(ctx, service)
	if err != nil {
		return redact.Redactor{}, fmt.Errorf("logs of %s: %w", service, err)
	}
	var values []string
	for _, r := range revs {
		var s spec.Service
		if err := json.Unmarshal(r.Spec, &s); err != nil {
			return redact.Redactor{}, fmt.Errorf("logs of %s: decode revision %d: %w", service, r.Number, err)
		}
		values = append(values, redact.Values(s)...)
	}
	return redact.New(values), nil
}
