package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/cutover/cutover/internal/fleet"
	"github.com/cutover/cutover/internal/migrate/coordinator"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/store"
)

// launcher hands recorded deployments on to be driven: it queues each one activated (by
// the API's use cases, or at recovery), then drives it in its own task, with its
// migrations around the controller's drive.
type launcher struct {
	fleet  *fleet.Fleet
	ctrl   *rollout.Controller
	mig    *coordinator.Coordinator
	store  *store.Store
	events eventLog
	logger *slog.Logger
	tasks  *tasks
	// started queues activated deployments until run launches them.
	started chan *fleet.Active
}

// run drives each deployment handed to it in its own task.
func (d *launcher) run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case a := <-d.started:
			d.tasks.launch(d.logger, "deployment", func(ctx context.Context) error {
				d.drive(ctx, a)
				return nil
			})
		}
	}
}

// activate registers a deployment as the service's running one and queues it for driving.
func (d *launcher) activate(dep *rollout.Deployment) {
	d.started <- d.fleet.Activate(dep)
}

// drive runs a deployment's migrations around the controller's drive. A deployment whose
// drive stops with the daemon is parked: the next daemon resumes it.
func (d *launcher) drive(ctx context.Context, a *fleet.Active) {
	defer close(a.Done)
	dep := a.Deployment
	err := d.ctrl.AwaitApproval(ctx, dep, a.Requests)
	if err == nil && !dep.State.Status.Active() {
		d.fleet.Deactivate(a) // aborted before anything started
		return
	}
	if err == nil {
		err = d.mig.BeforeStart(ctx, dep)
	}
	if err == nil {
		err = d.ctrl.Drive(ctx, dep, a.Wake, a.Requests)
	}
	if err != nil {
		d.logger.Info("deployment parked", "service", dep.Service, "deployment_id", dep.ID, "step", dep.State.Phase)
		return
	}
	d.mig.AfterEnd(ctx, dep)
	d.fleet.Deactivate(a)
}

// recover rebuilds the fleet from the store and resumes the deployments that were running.
func (d *launcher) recover(ctx context.Context) error {
	if err := d.fleet.Recover(ctx); err != nil {
		return err
	}
	active, err := d.store.ActiveDeployments(ctx)
	if err != nil {
		return err
	}
	for _, rec := range active {
		var st rollout.State
		if err := json.Unmarshal(rec.State, &st); err != nil {
			return fmt.Errorf("decode deployment %d: %w", rec.ID, err)
		}
		rs, err := d.fleet.RevisionSpec(ctx, rec.Service, st.To)
		if err != nil {
			return err
		}
		dep := &rollout.Deployment{ID: rec.ID, Service: rec.Service, Spec: rs, State: st}
		d.events.Record(ctx, rec.Service, rec.ID, "deployment_resumed", fmt.Sprintf("deployment %d resumed after a daemon restart at %q", rec.ID, st.Phase), nil)
		d.activate(dep)
	}
	return nil
}

// drop empties the queue: whoever recovers next resumes those deployments from the store.
func (d *launcher) drop() {
	for {
		select {
		case <-d.started:
		default:
			return
		}
	}
}

// eventLog records events in the store and the log, for the fleet, the rollout controller
// and the daemon's own use cases.
type eventLog struct {
	store  *store.Store
	logger *slog.Logger
}

// Record implements fleet.Events. Data that cannot be encoded is left out of the event.
func (e eventLog) Record(ctx context.Context, service string, deploymentID int64, typ, message string, data map[string]any) {
	var raw []byte
	if len(data) > 0 {
		var err error
		if raw, err = json.Marshal(data); err != nil {
			e.logger.Warn("encode event data", "service", service, "event", typ, "error", err)
		}
	}
	if _, err := e.store.AddEvent(context.WithoutCancel(ctx), store.Event{Service: service, DeploymentID: deploymentID, Type: typ, Message: message, Data: raw}); err != nil {
		e.logger.Warn("record event", "service", service, "event", typ, "error", err)
	}
	e.logger.Info(typ, "service", service, "deployment_id", deploymentID, "message", message)
}
