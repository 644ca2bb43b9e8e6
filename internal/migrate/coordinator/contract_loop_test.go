package coordinator

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// fleetView is a fixed fleet for the contract loop's bookkeeping, which needs no database
// until a mark's revision still serves with a database.
type fleetView struct {
	stables   map[string]Stable
	deploying map[string]bool
	specs     map[string]spec.Service // by service, for any revision
}

func (f fleetView) RunningRevisions(string) []int { return nil }
func (f fleetView) Serving(service string) (int, bool) {
	return f.stables[service].Revision, f.deploying[service]
}
func (f fleetView) Stables() map[string]Stable { return maps.Clone(f.stables) }
func (f fleetView) RevisionSpec(_ context.Context, service string, _ int) (spec.Service, error) {
	s, ok := f.specs[service]
	if !ok {
		return spec.Service{}, errors.New("no such revision")
	}
	return s, nil
}

// events keeps the types of the events recorded.
type events struct{ types []string }

func (e *events) Event(_ context.Context, _ string, _ int64, typ, _ string, _ map[string]any) {
	e.types = append(e.types, typ)
}
func (e *events) SaveState(context.Context, *rollout.Deployment) error { return nil }

// TestRunMarksWaitingContracts: Run starts by marking the services whose stable revision
// contracts after promotion (parts left waiting by a daemon that stopped), and no other;
// it returns nil once ctx is done.
func TestRunMarksWaitingContracts(t *testing.T) {
	after := &spec.Database{Contract: spec.ContractAfterPromote}
	fl := fleetView{stables: map[string]Stable{
		"after":    {Revision: 3, Database: after},
		"next":     {Revision: 2, Database: &spec.Database{Contract: spec.ContractNextDeploy}},
		"nodb":     {Revision: 1},
		"unserved": {Revision: 0, Database: after},
	}}
	c := New(Config{Fleet: fl, Specs: fl, Recorder: &events{}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Run(ctx); err != nil {
		t.Fatalf("Run after ctx ended: %v, want nil", err)
	}
	want := map[string]contractMark{"after": {rev: 3}}
	if got := c.locks.marked(); !maps.Equal(got, want) {
		t.Errorf("marked %v, want %v", got, want)
	}
}

// TestContractWaitingDropsStaleMarks: a mark waits while a deployment of the service runs,
// and is dropped, without trying the contract, once another revision is stable or the
// marked revision has no database.
func TestContractWaitingDropsStaleMarks(t *testing.T) {
	withDB := spec.Service{Database: &spec.Database{Contract: spec.ContractAfterPromote}}
	fl := fleetView{
		stables:   map[string]Stable{"busy": {Revision: 2}, "moved": {Revision: 3}, "nodb": {Revision: 2}},
		deploying: map[string]bool{"busy": true},
		specs:     map[string]spec.Service{"busy": withDB, "moved": withDB, "nodb": {Name: "nodb"}},
	}
	rec := &events{}
	c := New(Config{Store: noStore{}, Fleet: fl, Specs: fl, Recorder: rec})
	for _, s := range []string{"busy", "moved", "nodb"} {
		c.locks.mark(s, contractMark{rev: 2, deployment: 7})
		c.contractWaiting(context.Background(), s, contractMark{rev: 2, deployment: 7})
	}
	want := map[string]contractMark{"busy": {rev: 2, deployment: 7}}
	if got := c.locks.marked(); !maps.Equal(got, want) {
		t.Errorf("marks left %v, want %v", got, want)
	}
	if len(rec.types) != 0 {
		t.Errorf("events %q: a stale mark was tried", rec.types)
	}
}

// noStore has no migration files: a contract tried here fails.
type noStore struct{ Store }

func (noStore) MigrationFiles(context.Context, string, int) ([]store.MigrationFile, error) {
	return nil, errors.New("no store in this test")
}
