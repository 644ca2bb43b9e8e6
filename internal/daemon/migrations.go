package daemon

import (
	"context"

	"github.com/cutover/cutover/internal/fleet"
	"github.com/cutover/cutover/internal/migrate/coordinator"
	"github.com/cutover/cutover/internal/rollout"
)

// newMigrations wires the migration coordinator to the daemon's store, fleet and events.
func (d *Daemon) newMigrations() *coordinator.Coordinator {
	return coordinator.New(coordinator.Config{Store: d.store, Fleet: migrationFleet{d.fleet}, Specs: d.fleet,
		Recorder: migrationRecorder{events: d.events, deployments: d.fleet.Recorder()}, Logger: d.logger,
		Lint: d.opts.Lint, ContractCheck: d.opts.ContractCheck})
}

// migrationFleet adapts the fleet to coordinator.Fleet.
type migrationFleet struct{ *fleet.Fleet }

// Stables implements coordinator.Fleet.
func (f migrationFleet) Stables() map[string]coordinator.Stable {
	all := f.Fleet.Stables()
	out := make(map[string]coordinator.Stable, len(all))
	for name, s := range all {
		out[name] = coordinator.Stable{Revision: s.Revision, Database: s.Database}
	}
	return out
}

// migrationRecorder adapts the daemon's events and the fleet's deployment records to
// coordinator.Recorder.
type migrationRecorder struct {
	events      eventLog
	deployments fleet.Recorder
}

// Event implements coordinator.Recorder.
func (r migrationRecorder) Event(ctx context.Context, service string, deploymentID int64, typ, message string, data map[string]any) {
	r.events.Record(ctx, service, deploymentID, typ, message, data)
}

// SaveState implements coordinator.Recorder.
func (r migrationRecorder) SaveState(ctx context.Context, dep *rollout.Deployment) error {
	return r.deployments.SaveState(ctx, dep)
}
