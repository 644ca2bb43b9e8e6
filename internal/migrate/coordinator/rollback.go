package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/spec"
)

// schemaGap is an applied contract part that a revision does not carry: the contract
// removed something that revision may need.
type schemaGap struct {
	version int
	file    string
	applied migrate.Applied
}

func (g schemaGap) String() string {
	return fmt.Sprintf("contract %s applied at %s by revision %d", g.file, g.applied.StartedAt.UTC().Format(time.RFC3339), g.applied.Revision)
}

// CheckRollback refuses an operator's rollback of service from revision stable to
// revision `to` (spec target) when a contract part the target does not carry is applied:
// that revision would run against a schema without what it needs (api.ErrConflict). With
// req.Force and a reason it lets the rollback go on and returns the note to record with it.
// It changes nothing but a rollback_refused event.
func (c *Coordinator) CheckRollback(ctx context.Context, service string, stable, to int, target spec.Service, req api.RollbackRequest) (string, error) {
	if req.Force && strings.TrimSpace(req.Reason) == "" {
		return "", fmt.Errorf("rollback --force needs a --reason, which is recorded: %w", api.ErrInvalid)
	}
	gaps, err := c.schemaGaps(ctx, service, stable, target)
	if err != nil {
		if req.Force {
			return fmt.Sprintf("rollback to revision %d forced by %s without a schema check (%v): %s", to, orUnknown(req.Who), err, req.Reason), nil
		}
		return "", fmt.Errorf("rollback to revision %d: cannot check that its schema is still there: %w (--force --reason TEXT to roll back without the check): %w", to, err, api.ErrConflict)
	}
	if len(gaps) == 0 {
		return "", nil
	}
	if req.Force {
		return fmt.Sprintf("rollback to revision %d forced by %s although it predates %s: %s", to, orUnknown(req.Who), joinGaps(gaps), req.Reason), nil
	}
	msg := fmt.Sprintf("revision %d predates %s; it would run against a schema without what it needs: roll back to a revision that carries it, or use --force --reason TEXT if revision %d does not use what the contract removed",
		to, joinGaps(gaps), to)
	c.rec.Event(ctx, service, 0, "rollback_refused", msg, map[string]any{"to": to, "version": gaps[0].version})
	return "", fmt.Errorf("%s: %w", msg, api.ErrConflict)
}

// schemaGaps lists the applied contract parts that target does not carry, read from the
// version table of the database of the stable revision (else of the target).
func (c *Coordinator) schemaGaps(ctx context.Context, service string, stable int, target spec.Service) ([]schemaGap, error) {
	dbSpec := target
	if stable > 0 {
		if rs, err := c.specs.RevisionSpec(ctx, service, stable); err == nil && rs.Database != nil {
			dbSpec = rs
		}
	}
	if dbSpec.Database == nil {
		return nil, nil
	}
	r, err := c.openDatabase(ctx, dbSpec)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// The stable revision's migrations only name the files; the version table decides.
	migs, _ := c.revisionMigrations(ctx, service, stable, dbSpec.Database)
	states, err := r.Status(ctx, migs)
	if err != nil {
		return nil, fmt.Errorf("read the version table: %w", scrubDSN(err, dbSpec.Run.Env[dbSpec.Database.DSNEnv]))
	}
	return contractGaps(states, target.Database), nil
}

// contractGaps is the decision: every applied contract part that db (nil: no migrations at
// all) does not carry with the same checksum.
func contractGaps(states []migrate.State, db *spec.Database) []schemaGap {
	var out []schemaGap
	for _, st := range states {
		if st.Contract == nil || db.HasContract(st.Version, st.Contract.Checksum) {
			continue
		}
		file := filepath.Base(st.File)
		if st.File == "" {
			file = fmt.Sprintf("%d_%s", st.Version, st.Contract.Name)
		}
		out = append(out, schemaGap{version: st.Version, file: file, applied: *st.Contract})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out
}

func joinGaps(gaps []schemaGap) string {
	s := make([]string, len(gaps))
	for i, g := range gaps {
		s[i] = g.String()
	}
	return strings.Join(s, ", ")
}

// incompatibleRevisions maps each migration version whose contract part is applied to the
// revisions in history that do not carry that part (a rollback to them is refused).
func (c *Coordinator) incompatibleRevisions(ctx context.Context, service string, states []migrate.State) (map[int][]int, error) {
	revs, err := c.store.ListRevisions(ctx, service)
	if err != nil {
		return nil, err
	}
	out := map[int][]int{}
	for i := len(revs) - 1; i >= 0; i-- { // oldest first
		var rs spec.Service
		if err := json.Unmarshal(revs[i].Spec, &rs); err != nil {
			continue
		}
		for _, g := range contractGaps(states, rs.Database) {
			out[g.version] = append(out[g.version], revs[i].Number)
		}
	}
	return out, nil
}
