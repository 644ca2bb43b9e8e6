package daemon

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/spec"
)

// defaultContractCheck is how often waiting contract parts look at the running revisions.
const defaultContractCheck = time.Second

// contractLoop runs the contract parts that wait for an old revision to be gone
// (contract: after-promote) until ctx is done.
func (d *Daemon) contractLoop(ctx context.Context) {
	every := d.opts.ContractCheck
	if every <= 0 {
		every = defaultContractCheck
	}
	d.markWaitingContracts()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for service, m := range d.mig.marked() {
			d.contractWaiting(ctx, service, m)
		}
	}
}

// contractWaiting runs service's waiting contract parts once no running revision predates
// them; it drops the mark when they ran, when another deployment took over or on failure.
func (d *Daemon) contractWaiting(ctx context.Context, service string, m contractMark) {
	unlock := d.mig.lock(service)
	defer unlock()
	d.fleet.mu.Lock()
	s := d.fleet.service(service)
	stable, busy := s.stable, s.active != nil
	d.fleet.mu.Unlock()
	if busy {
		return // the deployment that runs now unmarks or waits its turn
	}
	if stable != m.rev {
		d.mig.unmark(service)
		return
	}
	rs, err := d.revisionSpec(ctx, service, m.rev)
	if err != nil || rs.Database == nil {
		d.mig.unmark(service)
		return
	}
	done, err := d.contractIfSafe(ctx, service, rs, m)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		msg := "contract after promotion: " + err.Error()
		d.event(ctx, service, m.deployment, "migration_failed", msg, nil)
		d.mig.unmark(service)
		return
	}
	if done {
		d.mig.unmark(service)
	}
}

// contractIfSafe runs the contract parts that may run now and reports whether none is
// left waiting.
func (d *Daemon) contractIfSafe(ctx context.Context, service string, rs spec.Service, m contractMark) (bool, error) {
	migs, err := d.revisionMigrations(ctx, service, m.rev, rs.Database)
	if err != nil {
		return false, err
	}
	r, err := d.openDatabase(ctx, rs)
	if err != nil {
		return false, err
	}
	defer r.Close()
	states, err := r.Status(ctx, migs)
	if err != nil {
		return false, err
	}
	ready, blocked := d.contractLimit(ctx, service, migs, states)
	if len(ready) > 0 {
		applied, err := r.Contract(ctx, ready, m.rev, 0)
		d.recordApplied(ctx, service, m.deployment, applied)
		if err != nil {
			return false, scrubDSN(err, rs.Run.Env[rs.Database.DSNEnv])
		}
	}
	return blocked == "", nil
}

// runningRevisions lists the revisions of service that have instances, stopping ones too.
func (d *Daemon) runningRevisions(service string) []int {
	d.fleet.mu.Lock()
	defer d.fleet.mu.Unlock()
	seen := map[int]bool{}
	var out []int
	for _, in := range d.fleet.service(service).instances {
		if !seen[in.rec.Revision] {
			seen[in.rec.Revision] = true
			out = append(out, in.rec.Revision)
		}
	}
	sort.Ints(out)
	return out
}

// contractLimit returns the migrations (a prefix of migs) whose pending contract parts may
// all run now (nil: none), and why the next one may not ("" when none waits).
func (d *Daemon) contractLimit(ctx context.Context, service string, migs []migrate.Migration, states []migrate.State) ([]migrate.Migration, string) {
	return contractLimit(migs, states, d.runningDatabases(ctx, service))
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

// markWaitingContracts marks every service whose stable revision runs contract parts after
// promotion, so that parts left waiting when the daemon stopped run once it is safe.
func (d *Daemon) markWaitingContracts() {
	d.fleet.mu.Lock()
	defer d.fleet.mu.Unlock()
	for name, s := range d.fleet.services {
		if db := s.spec.Database; s.stable > 0 && db != nil && db.Contract == spec.ContractAfterPromote {
			d.mig.mark(name, contractMark{rev: s.stable})
		}
	}
}
