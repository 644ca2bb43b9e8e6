package daemon

import (
	"context"
	"sort"

	"github.com/cutover/cutover/internal/migrate/coordinator"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
)

// newMigrations wires the migration coordinator to the daemon's store, fleet and events.
func (d *Daemon) newMigrations() *coordinator.Coordinator {
	return coordinator.New(coordinator.Config{Store: d.store, Fleet: migrationFleet{d}, Specs: migrationFleet{d},
		Recorder: migrationRecorder{d}, Logger: d.logger, Lint: d.opts.Lint, ContractCheck: d.opts.ContractCheck})
}

// runMigrations runs the coordinator's contract loop until ctx is done.
func (d *Daemon) runMigrations(ctx context.Context) {
	if err := d.mig.Run(ctx); err != nil {
		d.logger.Error("contract loop stopped", "error", err)
	}
}

// migrationFleet adapts the fleet to coordinator.Fleet and coordinator.Specs.
type migrationFleet struct{ d *Daemon }

// RunningRevisions lists the revisions of service that have instances, stopping ones too.
func (f migrationFleet) RunningRevisions(service string) []int {
	f.d.fleet.mu.Lock()
	defer f.d.fleet.mu.Unlock()
	seen := map[int]bool{}
	var out []int
	for _, in := range f.d.fleet.service(service).instances {
		if !seen[in.rec.Revision] {
			seen[in.rec.Revision] = true
			out = append(out, in.rec.Revision)
		}
	}
	sort.Ints(out)
	return out
}

func (f migrationFleet) Serving(service string) (int, bool) {
	f.d.fleet.mu.Lock()
	defer f.d.fleet.mu.Unlock()
	s := f.d.fleet.service(service)
	return s.stable, s.active != nil
}

func (f migrationFleet) Stables() map[string]coordinator.Stable {
	f.d.fleet.mu.Lock()
	defer f.d.fleet.mu.Unlock()
	out := make(map[string]coordinator.Stable, len(f.d.fleet.services))
	for name, s := range f.d.fleet.services {
		out[name] = coordinator.Stable{Revision: s.stable, Database: s.spec.Database}
	}
	return out
}

func (f migrationFleet) RevisionSpec(ctx context.Context, service string, rev int) (spec.Service, error) {
	return f.d.revisionSpec(ctx, service, rev)
}

// migrationRecorder adapts the daemon's events and deployment state to coordinator.Recorder.
type migrationRecorder struct{ d *Daemon }

func (r migrationRecorder) Event(ctx context.Context, service string, deploymentID int64, typ, message string, data map[string]any) {
	r.d.event(ctx, service, deploymentID, typ, message, data)
}

func (r migrationRecorder) SaveState(ctx context.Context, dep *rollout.Deployment) error {
	return r.d.SaveState(ctx, dep)
}
