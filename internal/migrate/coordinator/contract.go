package coordinator

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/spec"
)

// Run runs the contract parts that wait for an old revision to be gone (contract:
// after-promote) until ctx is done, then returns nil. It first marks every service whose
// stable revision contracts after promotion, so that parts left waiting when the daemon
// stopped run once it is safe. Run may be called again after it returned.
func (c *Coordinator) Run(ctx context.Context) error {
	c.markWaitingContracts()
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for service, m := range c.locks.marked() {
			c.contractWaiting(ctx, service, m)
		}
	}
}

// contractWaiting runs service's waiting contract parts once no running revision predates
// them; it drops the mark when they ran, when another deployment took over or on failure.
func (c *Coordinator) contractWaiting(ctx context.Context, service string, m contractMark) {
	unlock := c.locks.lock(service)
	defer unlock()
	stable, busy := c.fleet.Serving(service)
	if busy {
		return // the deployment that runs now unmarks or waits its turn
	}
	if stable != m.rev {
		c.locks.unmark(service)
		return
	}
	rs, err := c.specs.RevisionSpec(ctx, service, m.rev)
	if err != nil || rs.Database == nil {
		c.locks.unmark(service)
		return
	}
	done, err := c.contractIfSafe(ctx, service, rs, m)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		msg := "contract after promotion: " + err.Error()
		c.rec.Event(ctx, service, m.deployment, "migration_failed", msg, nil)
		c.locks.unmark(service)
		return
	}
	if done {
		c.locks.unmark(service)
	}
}

// contractIfSafe runs the contract parts that may run now and reports whether none is
// left waiting.
func (c *Coordinator) contractIfSafe(ctx context.Context, service string, rs spec.Service, m contractMark) (bool, error) {
	migs, err := c.revisionMigrations(ctx, service, m.rev, rs.Database)
	if err != nil {
		return false, err
	}
	r, err := c.openDatabase(ctx, rs)
	if err != nil {
		return false, err
	}
	defer r.Close()
	states, err := r.Status(ctx, migs)
	if err != nil {
		return false, err
	}
	ready, blocked := c.contractLimit(ctx, service, migs, states)
	if len(ready) > 0 {
		applied, err := r.Contract(ctx, ready, m.rev, 0)
		c.recordApplied(ctx, service, m.deployment, applied)
		if err != nil {
			return false, scrubDSN(err, rs.Run.Env[rs.Database.DSNEnv])
		}
	}
	return blocked == "", nil
}

// markWaitingContracts marks every service whose stable revision runs contract parts after
// promotion.
func (c *Coordinator) markWaitingContracts() {
	for name, s := range c.fleet.Stables() {
		if s.Revision > 0 && s.Database != nil && s.Database.Contract == spec.ContractAfterPromote {
			c.locks.mark(name, contractMark{rev: s.Revision})
		}
	}
}

// contractLimit returns the migrations (a prefix of migs) whose pending contract parts may
// all run now (nil: none), and why the next one may not ("" when none waits).
func (c *Coordinator) contractLimit(ctx context.Context, service string, migs []migrate.Migration, states []migrate.State) ([]migrate.Migration, string) {
	return contractLimit(migs, states, c.runningDatabases(ctx, service))
}

// runningDatabases maps each revision with instances to its database section (nil when its
// spec cannot be read or has none).
func (c *Coordinator) runningDatabases(ctx context.Context, service string) map[int]*spec.Database {
	out := map[int]*spec.Database{}
	for _, rev := range c.fleet.RunningRevisions(service) {
		rs, err := c.specs.RevisionSpec(ctx, service, rev)
		if err != nil {
			out[rev] = nil
			continue
		}
		out[rev] = rs.Database
	}
	return out
}

// contractLimit is the decision: pending contract parts run in version order, each only
// when its expand is applied and every running revision carries it.
func contractLimit(migs []migrate.Migration, states []migrate.State, running map[int]*spec.Database) ([]migrate.Migration, string) {
	applied := map[int]migrate.State{}
	for _, st := range states {
		applied[st.Version] = st
	}
	n := 0 // migs[:n] end with the last contract part that may run
	for i, m := range migs {
		st := applied[m.Version]
		if m.Contract == nil || st.Contract != nil {
			continue
		}
		if st.Expand == nil {
			return migs[:n], fmt.Sprintf("migration %d: its expand is not applied", m.Version)
		}
		if revs := blockers(m, running); len(revs) > 0 {
			return migs[:n], fmt.Sprintf("migration %d: revision(s) %v still run and predate its contract part", m.Version, revs)
		}
		n = i + 1
	}
	return migs[:n], ""
}

// blockers lists the running revisions that do not carry m's contract part.
func blockers(m migrate.Migration, running map[int]*spec.Database) []int {
	var out []int
	for rev, db := range running {
		if !db.HasContract(m.Version, m.Contract.Checksum) {
			out = append(out, rev)
		}
	}
	sort.Ints(out)
	return out
}
