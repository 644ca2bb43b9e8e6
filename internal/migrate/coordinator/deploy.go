package coordinator

import (
	"context"
	"fmt"

	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
)

// BeforeStart runs a deployment's database work before any of its instances start: with
// contract: next-deploy the pending contract parts that no running revision predates, then
// the pending expand parts. A rollback runs nothing. A failure fails the deployment (its
// state saved through the Recorder) before anything started or any traffic moved. It
// returns an error only when ctx ended (the deployment is then parked and runs this again
// when it resumes).
func (c *Coordinator) BeforeStart(ctx context.Context, dep *rollout.Deployment) error {
	c.locks.unmark(dep.Service) // a new deployment supersedes contracts waiting for the old one
	db := dep.Spec.Database
	if db == nil || dep.State.Status != rollout.StatusRunning || dep.State.Phase != "pending" {
		return nil
	}
	rec, err := c.store.GetDeployment(ctx, dep.ID)
	if err != nil {
		return c.parkOrFail(ctx, dep, fmt.Errorf("read deployment: %w", err))
	}
	if rec.Kind == "rollback" {
		c.rec.Event(ctx, dep.Service, dep.ID, "migrations_skipped", "a rollback runs no migration part; the database stays as it is", nil)
		return nil
	}
	unlock := c.locks.lock(dep.Service)
	defer unlock()
	migs, err := c.revisionMigrations(ctx, dep.Service, dep.State.To, db)
	if err != nil {
		return c.parkOrFail(ctx, dep, err)
	}
	r, err := c.openDatabase(ctx, dep.Spec)
	if err != nil {
		return c.parkOrFail(ctx, dep, err)
	}
	defer r.Close()
	if db.Contract == spec.ContractNextDeploy {
		if err := c.contractSafe(ctx, r, dep.Service, migs, dep.State.To, dep.ID); err != nil {
			return c.parkOrFail(ctx, dep, err)
		}
	}
	applied, err := r.Expand(ctx, migs, dep.State.To)
	c.recordApplied(ctx, dep.Service, dep.ID, applied)
	if err != nil {
		return c.parkOrFail(ctx, dep, scrubDSN(err, dep.Spec.Run.Env[db.DSNEnv]))
	}
	return nil
}

// parkOrFail returns ctx's error when ctx ended, else fails the deployment with err.
func (c *Coordinator) parkOrFail(ctx context.Context, dep *rollout.Deployment, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	reason := "migrations: " + err.Error()
	c.rec.Event(ctx, dep.Service, dep.ID, "migration_failed", reason, nil)
	dep.State.Status, dep.State.Phase, dep.State.Reason = rollout.StatusFailed, "failed", reason
	c.rec.Event(ctx, dep.Service, dep.ID, "deployment_failed", reason, nil)
	if serr := c.rec.SaveState(ctx, dep); serr != nil {
		c.logger.Warn("save failed deployment", "service", dep.Service, "deployment_id", dep.ID, "error", serr)
	}
	return nil
}

// AfterEnd marks a succeeded deployment's contract parts to run once every running
// revision carries them (contract: after-promote); Run runs them. Rollbacks mark nothing.
func (c *Coordinator) AfterEnd(ctx context.Context, dep *rollout.Deployment) {
	db := dep.Spec.Database
	if db == nil || db.Contract != spec.ContractAfterPromote || dep.State.Status != rollout.StatusSucceeded {
		return
	}
	if rec, err := c.store.GetDeployment(ctx, dep.ID); err != nil || rec.Kind == "rollback" {
		return
	}
	c.locks.mark(dep.Service, contractMark{rev: dep.State.To, deployment: dep.ID})
}

// contractSafe runs the pending contract parts of migs that every running revision of
// service carries, recording revision as the one that ran them. Parts that a running
// revision predates wait; that is not an error.
func (c *Coordinator) contractSafe(ctx context.Context, r *migrate.Runner, service string, migs []migrate.Migration, revision int, deploymentID int64) error {
	states, err := r.Status(ctx, migs)
	if err != nil {
		return err
	}
	ready, blocked := c.contractLimit(ctx, service, migs, states)
	if blocked != "" {
		c.logger.Info("contract waits", "service", service, "reason", blocked)
	}
	if len(ready) == 0 {
		return nil
	}
	applied, err := r.Contract(ctx, ready, revision, 0)
	c.recordApplied(ctx, service, deploymentID, applied)
	return err
}
