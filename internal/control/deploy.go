package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/deployspec"
	"github.com/cutover/cutover/internal/fleet"
	"github.com/cutover/cutover/internal/proxy"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// Deploy implements api.Backend: validate everything, then record the revision and the
// deployment in one transaction, then hand it to the controller. Nothing changes on error.
func (b *Backend) Deploy(ctx context.Context, req api.DeployRequest) (api.Deployment, error) {
	s, err := b.resolveSpec(ctx, req)
	if err != nil {
		return api.Deployment{}, err
	}
	if err := b.checkPromotion(s, req); err != nil {
		return api.Deployment{}, err
	}
	provided, err := b.provide(ctx, s, nil)
	if err != nil {
		return api.Deployment{}, err
	}
	if err := b.checkDeployable(ctx, s); err != nil {
		return api.Deployment{}, err
	}
	notes, migrations, err := b.checkDatabase(ctx, s, req.Promotion)
	if err != nil {
		return api.Deployment{}, err
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return api.Deployment{}, fmt.Errorf("encode spec: %w", err)
	}
	from, _ := b.fleet.Serving(s.Name)
	if p := req.Promotion; p != nil {
		note := fmt.Sprintf("promoted from %s (revision %d, spec %s)", p.From, p.Revision, p.SpecHash)
		req.Message = strings.TrimSuffix(note+": "+req.Message, ": ")
	}
	rev := store.Revision{Service: s.Name, Spec: raw, SpecHash: spec.Hash(s), CreatedBy: req.Who, Message: req.Message, Migrations: migrations}
	return b.begin(ctx, s, rev, "deploy", from, slices.Concat(spec.Warnings(s), provided, notes))
}

// resolveSpec builds the spec of the new revision from the request: the given YAML, or the
// spec of the service's stable revision, with the overrides applied, parsed and validated.
func (b *Backend) resolveSpec(ctx context.Context, req api.DeployRequest) (*spec.Service, error) {
	doc := []byte(req.Spec)
	file := req.SpecFile
	if req.Promotion != nil {
		if len(doc) > 0 {
			return nil, fmt.Errorf("deploy %s: give a spec or a promotion, not both: %w", req.Service, api.ErrInvalid)
		}
		var err error
		if doc, file, err = b.promotedDoc(ctx, req); err != nil {
			return nil, err
		}
	}
	if len(doc) == 0 {
		cur, err := b.currentSpec(ctx, req.Service)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			return nil, fmt.Errorf("service %s has never been deployed: give a spec (--spec FILE): %w", req.Service, api.ErrInvalid)
		}
		if doc, err = spec.Marshal(cur); err != nil {
			return nil, fmt.Errorf("encode spec of %s: %w", req.Service, err)
		}
		file = "current spec of " + req.Service
	}
	return deployspec.Build(req, doc, file)
}

// stableSpec is the spec overrides build on: the stable revision's, so that a revision that
// failed and was rolled back does not carry its change into the next deploy; the service's
// latest spec when no revision has been stable yet.
func (b *Backend) stableSpec(ctx context.Context, svc store.Service) ([]byte, error) {
	if svc.Stable == 0 {
		return svc.Spec, nil
	}
	rev, err := b.store.GetRevision(ctx, svc.Name, svc.Stable)
	if err != nil {
		return nil, fmt.Errorf("spec of stable revision %d of %s: %w", svc.Stable, svc.Name, err)
	}
	return rev.Spec, nil
}

// routeError is the conflict of a route the proxy could not take: an address another program
// listens on is named once, with the field it comes from.
func routeError(s *spec.Service, err error) error {
	var op *net.OpError
	if errors.Is(err, syscall.EADDRINUSE) && errors.As(err, &op) && op.Addr != nil {
		field := "route.listen"
		if bg := s.Strategy.BlueGreen; bg != nil && bg.PreviewListen != "" && op.Addr.String() == bg.PreviewListen {
			field = "strategy.blue_green.preview_listen"
		}
		return fmt.Errorf("%s %s: address already in use by another program: stop it, or choose another address: %w",
			field, op.Addr, api.ErrConflict)
	}
	return fmt.Errorf("route %s: %w: %w", s.Route.Listen, err, api.ErrConflict)
}

// checkDeployable refuses a spec that cannot run here: a route owned by another service, a
// listen address that cannot be opened, a command that does not exist.
func (b *Backend) checkDeployable(ctx context.Context, s *spec.Service) error {
	route := fleet.Route(*s)
	if owner := b.fleet.RouteOwner(s.Name, route); owner != "" {
		return fmt.Errorf("route %s %v%v is already owned by service %s: %w", s.Route.Listen, s.Route.Hosts, s.Route.Paths, owner, api.ErrConflict)
	}
	if err := proxy.CheckTLS(route); err != nil {
		return &api.ValidationError{Fields: []api.FieldError{{Path: "route.tls", Message: err.Error()}}}
	}
	if active, err := b.store.ActiveDeployment(ctx, s.Name); err == nil {
		return fmt.Errorf("service %s has deployment %d %s: wait for it, or abort it: %w", s.Name, active.ID, active.Status, api.ErrConflict)
	}
	if err := b.fleet.Check(ctx, *s); err != nil {
		path := "run.command"
		if s.Run.Image != "" {
			path = "run.image"
		}
		return &api.ValidationError{Fields: []api.FieldError{{Path: path, Message: err.Error()}}}
	}
	return nil
}

// begin records the revision (new when rev.Number is 0) and the deployment, sets the route
// and starts driving. A failure before the commit leaves everything as it was.
func (b *Backend) begin(ctx context.Context, s *spec.Service, rev store.Revision, kind string, from int, warnings []string) (api.Deployment, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return api.Deployment{}, fmt.Errorf("encode spec of %s: %w", s.Name, err)
	}
	now := time.Now().UTC()
	st := rollout.State{Strategy: s.Strategy.Type, From: from, To: rev.Number, Replicas: s.Replicas,
		Status: rollout.StatusRunning, Phase: "pending", StartedAt: now, LastProgressAt: now, StartedBy: api.Identity(ctx)}
	if b.requireApproval {
		st.ApprovalRequired, st.Status, st.Phase = true, rollout.StatusPaused, rollout.PhaseAwaitingApproval
	}
	stateRaw, err := json.Marshal(st)
	if err != nil {
		return api.Deployment{}, fmt.Errorf("encode state: %w", err)
	}
	prevRoute := b.fleet.StableRoute(s.Name)
	if err := b.proxy.SetRoute(fleet.Route(*s)); err != nil {
		return api.Deployment{}, routeError(s, err)
	}
	svc := store.Service{Name: s.Name, Spec: raw, Stable: from}
	dep := store.Deployment{Service: s.Name, Kind: kind, From: from, Strategy: s.Strategy.Type, Status: string(st.Status), State: stateRaw}
	msg := func(to int) string {
		return fmt.Sprintf("%s of %s started: revision %d → %d (%s)", kind, s.Name, from, to, s.Strategy.Type)
	}
	// One commit: the revision, the deployment with its state naming that revision, and the
	// events that say it started, before anything is started for it.
	rev, stored, err := b.store.BeginDeploymentThen(ctx, svc, rev, dep, func(tx *store.Store, rev store.Revision, d *store.Deployment) error {
		st.To = rev.Number
		raw, err := json.Marshal(st)
		if err != nil {
			return fmt.Errorf("encode state: %w", err)
		}
		d.State = raw
		if err := tx.UpdateDeployment(ctx, *d); err != nil {
			return err
		}
		return addEvents(ctx, tx, startedEvents(s, d.ID, from, rev.Number, msg(rev.Number), warnings))
	})
	if err != nil {
		b.restoreRoute(s.Name, prevRoute)
		var ce *store.ConflictError
		if errors.As(err, &ce) {
			return api.Deployment{}, fmt.Errorf("%w: %w", err, api.ErrConflict)
		}
		return api.Deployment{}, err
	}
	rd := &rollout.Deployment{ID: stored.ID, Service: s.Name, Spec: *s, State: st}
	b.fleet.NoteRevision(s.Name, rev.Number, *s)
	b.logger.Info("deployment_started", "service", s.Name, "deployment_id", stored.ID, "message", msg(rev.Number))
	b.activate(rd)
	out := toAPIDeployment(stored, st)
	out.Warnings = warnings
	return out, nil
}

// startedEvents are the events of a deployment that starts: deployment_started, then one
// deployment_warning per warning.
func startedEvents(s *spec.Service, id int64, from, to int, msg string, warnings []string) []store.Event {
	data, _ := json.Marshal(map[string]any{"from": from, "to": to, "strategy": s.Strategy.Type})
	evs := []store.Event{{Service: s.Name, DeploymentID: id, Type: "deployment_started", Message: msg, Data: data}}
	for _, w := range warnings {
		evs = append(evs, store.Event{Service: s.Name, DeploymentID: id, Type: "deployment_warning", Message: w})
	}
	return evs
}

func addEvents(ctx context.Context, tx *store.Store, evs []store.Event) error {
	for _, e := range evs {
		if _, err := tx.AddEvent(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

func (b *Backend) restoreRoute(service string, prev *proxy.Route) {
	if prev == nil {
		b.proxy.RemoveRoute(service)
		return
	}
	if err := b.proxy.SetRoute(*prev); err != nil {
		b.logger.Warn("restore route", "service", service, "error", err)
	}
}

func toAPIDeployment(d store.Deployment, st rollout.State) api.Deployment {
	out := api.Deployment{ID: d.ID, Service: d.Service, Kind: d.Kind, From: d.From, To: st.To, Strategy: d.Strategy,
		Status: string(st.Status), Phase: st.Phase, Step: st.Step, Reason: st.Reason, StartedBy: st.StartedBy, ApprovedBy: st.ApprovedBy,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, FinishedAt: d.FinishedAt, StepStartedAt: st.StepAt}
	if out.StepStartedAt.IsZero() {
		out.StepStartedAt = st.StartedAt
	}
	if v := st.Verdict; v != nil {
		ev, _ := json.Marshal(v.Evidence)
		out.Verdict = &api.Verdict{Outcome: string(v.Outcome), Rule: string(v.Rule), Reason: v.Reason,
			Summary: analysis.Describe(*v), Evidence: ev}
	}
	return out
}
