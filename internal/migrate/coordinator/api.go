package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// migrationTarget is what an operator's migration command works on: the stable revision
// (else the latest spec) of the service, its migrations and an open runner (close it).
type migrationTarget struct {
	spec spec.Service
	rev  int
	migs []migrate.Migration
	r    *migrate.Runner
}

func (c *Coordinator) migrationTarget(ctx context.Context, service string) (*migrationTarget, error) {
	svc, err := c.store.GetService(ctx, service)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("service %s: %w", service, api.ErrNotFound)
	} else if err != nil {
		return nil, err
	}
	var s spec.Service
	if svc.Stable > 0 {
		if s, err = c.specs.RevisionSpec(ctx, service, svc.Stable); err != nil {
			return nil, err
		}
	} else if err := json.Unmarshal(svc.Spec, &s); err != nil {
		return nil, fmt.Errorf("decode spec of %s: %w", service, err)
	}
	if s.Database == nil {
		return nil, fmt.Errorf("service %s has no database section in its spec: %w", service, api.ErrInvalid)
	}
	var migs []migrate.Migration
	if svc.Stable > 0 {
		migs, err = c.revisionMigrations(ctx, service, svc.Stable, s.Database)
	} else {
		migs, err = loadMigrations(s.Database) // nothing serves yet: the latest spec's directory
	}
	if err != nil {
		return nil, fmt.Errorf("database.migrations: %w: %w", err, api.ErrInvalid)
	}
	r, err := c.openDatabase(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, api.ErrConflict)
	}
	return &migrationTarget{spec: s, rev: svc.Stable, migs: migs, r: r}, nil
}

// MigrationStatus implements api.MigrateBackend.
func (c *Coordinator) MigrationStatus(ctx context.Context, service string) (api.MigrationStatus, error) {
	t, err := c.migrationTarget(ctx, service)
	if err != nil {
		return api.MigrationStatus{}, err
	}
	defer t.r.Close()
	states, err := t.r.Status(ctx, t.migs)
	if err != nil {
		return api.MigrationStatus{}, migrationError(t, err)
	}
	carried, err := c.carriers(ctx, service)
	if err != nil {
		return api.MigrationStatus{}, err
	}
	incompatible, err := c.incompatibleRevisions(ctx, service, states)
	if err != nil {
		return api.MigrationStatus{}, err
	}
	running := c.runningDatabases(ctx, service)
	byVersion := map[int]migrate.Migration{}
	for _, m := range t.migs {
		byVersion[m.Version] = m
	}
	out := api.MigrationStatus{Service: service, Driver: t.spec.Database.Driver, Dir: t.spec.Database.Migrations,
		Revision: t.rev, Running: c.fleet.RunningRevisions(service)}
	for _, st := range states {
		ms := api.MigrationState{Version: st.Version, Name: st.Name, File: st.File, HasContract: st.HasContract,
			HasDown: st.HasDown, Expand: appliedView(st.Expand), Contract: appliedView(st.Contract),
			CarriedBy: nonNilInts(carried[st.Version]), Incompatible: incompatible[st.Version]}
		if m, ok := byVersion[st.Version]; ok && m.Contract != nil && st.Contract == nil {
			ms.ContractBlockedBy = blockers(m, running)
		}
		for _, c := range st.Changed {
			ms.Changed = append(ms.Changed, c.Error())
		}
		out.Migrations = append(out.Migrations, ms)
	}
	return out, nil
}

// MigrationPlan implements api.MigrateBackend.
func (c *Coordinator) MigrationPlan(ctx context.Context, service string) (api.MigrationPlan, error) {
	t, err := c.migrationTarget(ctx, service)
	if err != nil {
		return api.MigrationPlan{}, err
	}
	defer t.r.Close()
	p, err := t.r.Plan(ctx, t.migs)
	if err != nil {
		return api.MigrationPlan{}, migrationError(t, err)
	}
	running := c.runningDatabases(ctx, service)
	byVersion := map[int]migrate.Migration{}
	for _, m := range t.migs {
		byVersion[m.Version] = m
	}
	out := api.MigrationPlan{Service: service}
	for _, s := range p.Expand {
		out.Expand = append(out.Expand, stepView(s))
	}
	for _, s := range p.Contract {
		v := stepView(s)
		if s.NeedsExpand {
			v.Blocked = "its expand is not applied"
		} else if revs := blockers(byVersion[s.Version], running); len(revs) > 0 {
			v.Blocked = fmt.Sprintf("revision(s) %v still run and predate it", revs)
		}
		out.Contract = append(out.Contract, v)
	}
	return out, nil
}

// MigrateUp implements api.MigrateBackend: pending expand parts, recorded for the stable revision.
func (c *Coordinator) MigrateUp(ctx context.Context, service string, req api.MigrateRequest) (api.MigrationRun, error) {
	return c.migrateRun(ctx, service, req, "up", func(t *migrationTarget) ([]migrate.Applied, error) {
		return t.r.Expand(ctx, t.migs, t.rev)
	})
}

// MigrateContract implements api.MigrateBackend.
func (c *Coordinator) MigrateContract(ctx context.Context, service string, req api.MigrateRequest) (api.MigrationRun, error) {
	if req.Force && strings.TrimSpace(req.Reason) == "" {
		return api.MigrationRun{}, fmt.Errorf("contract --force needs a --reason, which is recorded: %w", api.ErrInvalid)
	}
	return c.migrateRun(ctx, service, req, "contract", func(t *migrationTarget) ([]migrate.Applied, error) {
		if req.Force {
			c.rec.Event(ctx, service, 0, "migration_contract_forced", fmt.Sprintf("contract forced by %s: %s", orUnknown(req.Who), req.Reason), nil)
			return t.r.Contract(ctx, t.migs, t.rev, 0)
		}
		states, err := t.r.Status(ctx, t.migs)
		if err != nil {
			return nil, err
		}
		ready, blocked := c.contractLimit(ctx, service, t.migs, states)
		var applied []migrate.Applied
		if len(ready) > 0 {
			if applied, err = t.r.Contract(ctx, ready, t.rev, 0); err != nil {
				return applied, err
			}
		}
		if blocked != "" {
			return applied, fmt.Errorf("contract refused: %s (wait for it to be gone, or --force --reason): %w", blocked, api.ErrConflict)
		}
		return applied, nil
	})
}

// MigrateDown implements api.MigrateBackend; it runs only on this explicit request.
func (c *Coordinator) MigrateDown(ctx context.Context, service string, req api.MigrateRequest) (api.MigrationRun, error) {
	if req.To < 0 {
		return api.MigrationRun{}, fmt.Errorf("down --to %d: want a version of 0 or more: %w", req.To, api.ErrInvalid)
	}
	return c.migrateRun(ctx, service, req, "down", func(t *migrationTarget) ([]migrate.Applied, error) {
		return t.r.Down(ctx, t.migs, t.rev, req.To)
	})
}

// migrateRun runs an operator's migration command while no deployment of the service runs.
func (c *Coordinator) migrateRun(ctx context.Context, service string, req api.MigrateRequest, what string,
	run func(*migrationTarget) ([]migrate.Applied, error)) (api.MigrationRun, error) {
	if err := c.noActiveDeployment(ctx, service, what); err != nil {
		return api.MigrationRun{}, err // before the lock, which a deployment's expand holds
	}
	unlock := c.locks.lock(service)
	defer unlock()
	if err := c.noActiveDeployment(ctx, service, what); err != nil {
		return api.MigrationRun{}, err
	}
	t, err := c.migrationTarget(ctx, service)
	if err != nil {
		return api.MigrationRun{}, err
	}
	defer t.r.Close()
	applied, err := run(t)
	c.recordApplied(ctx, service, 0, applied)
	out := api.MigrationRun{Service: service}
	for i := range applied {
		out.Applied = append(out.Applied, *appliedView(&applied[i]))
	}
	if err != nil {
		return out, migrationError(t, err)
	}
	return out, nil
}

func (c *Coordinator) noActiveDeployment(ctx context.Context, service, what string) error {
	if active, err := c.store.ActiveDeployment(ctx, service); err == nil {
		return fmt.Errorf("service %s has deployment %d %s: migrate %s waits for it: %w", service, active.ID, active.Status, what, api.ErrConflict)
	}
	return nil
}

// migrationError maps a runner's error for the API, without the DSN: a refused or changed
// migration is a conflict the operator resolves; an API error passes as it is.
func migrationError(t *migrationTarget, err error) error {
	var ae *api.Error
	if errors.Is(err, api.ErrConflict) || errors.Is(err, api.ErrInvalid) || errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("%w: %w", scrubDSN(err, t.spec.Run.Env[t.spec.Database.DSNEnv]), api.ErrConflict)
}

// carriers maps each migration version to the revisions in history that carry it.
func (c *Coordinator) carriers(ctx context.Context, service string) (map[int][]int, error) {
	revs, err := c.store.ListRevisions(ctx, service)
	if err != nil {
		return nil, err
	}
	out := map[int][]int{}
	for _, r := range revs {
		var rs spec.Service
		if err := json.Unmarshal(r.Spec, &rs); err != nil || rs.Database == nil {
			continue
		}
		for _, p := range rs.Database.Parts {
			out[p.Version] = append(out[p.Version], r.Number)
		}
	}
	for _, v := range out {
		sort.Ints(v)
	}
	return out, nil
}

func appliedView(a *migrate.Applied) *api.MigrationApplied {
	if a == nil {
		return nil
	}
	return &api.MigrationApplied{Version: a.Version, Name: a.Name, Phase: string(a.Phase), Checksum: a.Checksum,
		Revision: a.Revision, StartedAt: a.StartedAt, DurationMS: a.Duration.Milliseconds()}
}

func stepView(s migrate.Step) api.MigrationStep {
	return api.MigrationStep{Version: s.Version, Name: s.Name, File: s.File, Line: s.Line, Phase: string(s.Phase),
		Statements: s.Statements, NoTransaction: s.NoTransaction}
}

func nonNilInts(v []int) []int {
	if v == nil {
		return []int{}
	}
	return v
}

func orUnknown(who string) string {
	if who == "" {
		return "unknown"
	}
	return who
}

var _ api.MigrateBackend = (*Coordinator)(nil)
