package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Expand applies every pending expand part of migs in version order and records revision as
// the one that applied them. It refuses to start when an applied part has changed. On error
// the database holds every migration that completed; the error is a *StatementError (file,
// line, statement) when the database refused a statement. It returns the parts it applied.
func (r *Runner) Expand(ctx context.Context, migs []Migration, revision int) ([]Applied, error) {
	out, err := r.run(ctx, revision, func(states map[int]*State) ([]job, error) {
		return expandJobs(migs, states), verify(migs, states)
	})
	if err != nil {
		return out, fmt.Errorf("expand: %w", err)
	}
	return out, nil
}

// Contract applies the pending contract parts of migrations up to version upTo (all when
// upTo <= 0) in version order. A pending contract part whose expand is not applied is an
// error (wrapping ErrContractWithoutExpand) and nothing runs.
func (r *Runner) Contract(ctx context.Context, migs []Migration, revision, upTo int) ([]Applied, error) {
	out, err := r.run(ctx, revision, func(states map[int]*State) ([]job, error) {
		if err := verify(migs, states); err != nil {
			return nil, err
		}
		return contractJobs(migs, states, upTo)
	})
	if err != nil {
		return out, fmt.Errorf("contract: %w", err)
	}
	return out, nil
}

// Down runs the down parts of every applied migration above version to, newest first. It
// checks every one first (in migs, has a down section, contract not applied) and runs
// nothing if any fails. Only an operator's explicit request should lead here.
func (r *Runner) Down(ctx context.Context, migs []Migration, revision, to int) ([]Applied, error) {
	out, err := r.run(ctx, revision, func(states map[int]*State) ([]job, error) {
		if err := verify(migs, states); err != nil {
			return nil, err
		}
		return downJobs(migs, states, to)
	})
	if err != nil {
		return out, fmt.Errorf("down to %d: %w", to, err)
	}
	return out, nil
}

// run takes the runners' lock, reads the log, asks plan for the jobs and applies them.
func (r *Runner) run(ctx context.Context, revision int, plan func(map[int]*State) ([]job, error)) ([]Applied, error) {
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	unlock, err := r.d.lock(ctx, conn, r.cfg.lockTimeout)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := conn.ExecContext(ctx, r.d.createTable()); err != nil {
		return nil, fmt.Errorf("create %s: %w", Table, err)
	}
	states, err := r.read(ctx, conn)
	if err != nil {
		return nil, err
	}
	jobs, err := plan(states)
	if err != nil {
		return nil, err
	}
	var out []Applied
	for _, j := range jobs {
		a, err := r.apply(ctx, conn, j, revision)
		if err != nil {
			return out, err
		}
		if a != nil {
			out = append(out, *a)
		}
	}
	return out, nil
}

// apply runs one job, retrying with exponential backoff while it hits its lock timeout. It
// returns nil, nil when another runner applied the part meanwhile.
func (r *Runner) apply(ctx context.Context, conn *sql.Conn, j job, revision int) (*Applied, error) {
	from := 0 // first statement still to run (no-transaction jobs resume there)
	wait := r.cfg.retryBase
	for attempt := 0; ; attempt++ {
		var a *Applied
		var err error
		if j.m.NoTransaction {
			a, err = r.applyDirect(ctx, conn, j, revision, &from)
		} else {
			a, err = r.applyInTx(ctx, conn, j, revision)
		}
		if err == nil || !r.d.isLockTimeout(err) || attempt >= r.cfg.retries {
			return a, err
		}
		r.cfg.log.Warn("migration lock timeout", "version", j.m.Version, "phase", string(j.phase),
			"attempt", attempt+1, "retry_in", wait, "error", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (waiting to retry after: %w)", ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(wait*2, r.cfg.retryMax)
	}
}

func (r *Runner) timeouts(m Migration) (lock, stmt time.Duration) {
	lock, stmt = r.cfg.lockTimeout, r.cfg.stmtTimeout
	if m.LockTimeout != nil {
		lock = *m.LockTimeout
	}
	if m.StatementTimeout != nil {
		stmt = *m.StatementTimeout
	}
	return lock, stmt
}

// applyInTx runs a job in one transaction that also records it, re-reading the log inside
// the transaction so that a part another runner applied meanwhile is skipped.
func (r *Runner) applyInTx(ctx context.Context, conn *sql.Conn, j job, revision int) (a *Applied, err error) {
	lock, stmt := r.timeouts(j.m)
	for _, q := range r.d.beginTimeouts(lock) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: set timeouts of migration %d: %w", j.m.File, j.m.Version, err)
		}
	}
	if _, err := conn.ExecContext(ctx, r.d.begin()); err != nil {
		return nil, fmt.Errorf("%s: begin migration %d: %w", j.m.File, j.m.Version, err)
	}
	defer func() {
		if err != nil || a == nil {
			// A fresh context: the transaction must end even when ctx is done.
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, rerr := conn.ExecContext(rctx, "ROLLBACK"); rerr != nil {
				err = errors.Join(err, fmt.Errorf("rollback migration %d: %w", j.m.Version, rerr))
			}
		}
	}()
	states, err := r.read(ctx, conn)
	if err != nil {
		return nil, err
	}
	if j.done(stateOf(states, j.m.Version)) {
		return nil, nil
	}
	for _, q := range r.d.timeouts(lock, stmt, true) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("set timeouts of migration %d: %w", j.m.Version, err)
		}
	}
	started := time.Now()
	if err := r.execAll(ctx, conn, j, nil); err != nil {
		return nil, err
	}
	a, err = r.record(ctx, conn, j, revision, started)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, fmt.Errorf("commit migration %d: %w", j.m.Version, err)
	}
	r.logApplied(*a)
	return a, nil
}

// applyDirect runs a no-transaction job statement by statement from *from, with session
// timeouts, and records it at the end. On PostgreSQL the advisory lock makes this exclusive;
// on SQLite nothing stops a second runner from running the same statements.
func (r *Runner) applyDirect(ctx context.Context, conn *sql.Conn, j job, revision int, from *int) (*Applied, error) {
	lock, stmt := r.timeouts(j.m)
	for _, q := range r.d.timeouts(lock, stmt, false) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("set timeouts of migration %d: %w", j.m.Version, err)
		}
	}
	defer func() {
		for _, q := range r.d.resetTimeouts() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), q) // closing the session resets them too
		}
	}()
	started := time.Now()
	if err := r.execAll(ctx, conn, j, from); err != nil {
		return nil, err
	}
	a, err := r.record(ctx, conn, j, revision, started)
	if err != nil {
		return nil, err
	}
	r.logApplied(*a)
	return a, nil
}

// execAll runs the job's statements from *from (0 when from is nil), advancing *from past
// each one that succeeds.
func (r *Runner) execAll(ctx context.Context, conn *sql.Conn, j job, from *int) error {
	stmts := j.section().Statements
	start := 0
	if from != nil {
		start = *from
	}
	for i := start; i < len(stmts); i++ {
		st := stmts[i]
		if _, err := conn.ExecContext(ctx, st.SQL); err != nil {
			return &StatementError{File: j.m.File, Line: st.Line, Version: j.m.Version, Phase: j.phase, SQL: st.SQL, Err: err}
		}
		if from != nil {
			*from = i + 1
		}
	}
	return nil
}

func (r *Runner) record(ctx context.Context, conn *sql.Conn, j job, revision int, started time.Time) (*Applied, error) {
	a := &Applied{Version: j.m.Version, Name: j.m.Name, Phase: j.phase, Checksum: j.section().Checksum,
		Revision: revision, StartedAt: started.UTC(), Duration: time.Since(started)}
	q := r.d.bind(`INSERT INTO ` + Table + ` (version, name, phase, checksum, revision, started_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if _, err := conn.ExecContext(ctx, q, a.Version, a.Name, string(a.Phase), a.Checksum, a.Revision, a.StartedAt, a.Duration.Milliseconds()); err != nil {
		return nil, fmt.Errorf("record migration %d %s: %w", j.m.Version, j.phase, err)
	}
	return a, nil
}

func (r *Runner) logApplied(a Applied) {
	r.cfg.log.Info("migration applied", "version", a.Version, "name", a.Name, "phase", string(a.Phase),
		"revision", a.Revision, "duration_ms", a.Duration.Milliseconds())
}
