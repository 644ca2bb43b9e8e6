package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"
)

// ErrUnknownDriver is returned by Open for a driver other than postgres or sqlite.
var ErrUnknownDriver = errors.New("unknown database driver")

// ErrContractWithoutExpand is returned when a contract part is asked for while its expand is
// not applied.
var ErrContractWithoutExpand = errors.New("contract part without its expand applied")

// Runner applies migrations to one database. Its methods are safe for concurrent use, and
// several Runners (in one process or many) may work on the same database at once: each
// migration part is applied exactly once.
type Runner struct {
	db  *sql.DB
	d   dialect
	cfg config
}

type config struct {
	log            *slog.Logger
	lockTimeout    time.Duration
	stmtTimeout    time.Duration
	retries        int
	retryBase      time.Duration
	retryMax       time.Duration
	connectTimeout time.Duration
}

// Option configures a Runner.
type Option func(*config)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithLockTimeout sets the lock_timeout of migrations without a directive (default 2s: every
// query on a table queues behind a DDL statement that waits for its lock, so a short wait plus
// retries hurts the serving revision less than one long wait). 0 means wait forever.
func WithLockTimeout(d time.Duration) Option { return func(c *config) { c.lockTimeout = d } }

// WithStatementTimeout sets the statement_timeout of migrations without a directive (default
// 0, none: a long statement that holds no strong lock, such as a concurrent index build or a
// batched backfill, is harmless, and killing it halfway leaves work to clean up).
func WithStatementTimeout(d time.Duration) Option { return func(c *config) { c.stmtTimeout = d } }

// WithRetry sets how often a migration that hit its lock timeout is retried (default 5) and
// the first wait (default 500ms), doubled after each attempt up to max (default 15s).
func WithRetry(retries int, base, max time.Duration) Option {
	return func(c *config) { c.retries, c.retryBase, c.retryMax = retries, base, max }
}

// WithConnectTimeout bounds Open's first connection (default 10s).
func WithConnectTimeout(d time.Duration) Option { return func(c *config) { c.connectTimeout = d } }

// Open connects to the database of driver ("postgres" — also "postgresql", "pgx" — or
// "sqlite") at dsn and checks that it answers. It changes nothing in the database. Errors
// never contain the DSN's password. The caller closes the Runner.
func Open(ctx context.Context, driver, dsn string, opts ...Option) (*Runner, error) {
	cfg := config{
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), lockTimeout: 2 * time.Second,
		retries: 5, retryBase: 500 * time.Millisecond, retryMax: 15 * time.Second,
		connectTimeout: 10 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	db, d, err := openDB(driver, dsn)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.connectTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", d.name(), err)
	}
	return &Runner{db: db, d: d, cfg: cfg}, nil
}

// Close closes the database handle.
func (r *Runner) Close() error { return r.db.Close() }

// Driver returns "postgres" or "sqlite".
func (r *Runner) Driver() string { return r.d.name() }

// Applied is one row of the version table.
type Applied struct {
	Version   int
	Name      string
	Phase     Phase
	Checksum  string
	Revision  int
	StartedAt time.Time
	Duration  time.Duration
}

// State is where one migration stands.
type State struct {
	Version int
	Name    string
	File    string // "" when the version is only in the database
	// Expand and Contract are the rows that applied those parts; nil when not applied (or
	// undone by a down part since).
	Expand, Contract *Applied
	HasContract      bool // the file has a contract section
	HasDown          bool // the file has a down section
	// Changed lists applied parts whose section in the file has changed.
	Changed []*ChecksumError
}

// Status reads the version table and reports every migration in migs and every version the
// table knows, sorted by version. It creates nothing: a database without the table has
// nothing applied.
func (r *Runner) Status(ctx context.Context, migs []Migration) ([]State, error) {
	states, err := r.read(ctx, r.db)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	for _, m := range migs {
		st := stateOf(states, m.Version)
		st.Name, st.File = m.Name, m.File
		st.HasContract, st.HasDown = m.Contract != nil, m.Down != nil
		st.Changed = checksumErrors(m, st)
	}
	out := make([]State, 0, len(states))
	for _, st := range states {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

func stateOf(states map[int]*State, v int) *State {
	st, ok := states[v]
	if !ok {
		st = &State{Version: v}
		states[v] = st
	}
	return st
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// read returns the state of every version in the version table (none if it is missing).
func (r *Runner) read(ctx context.Context, q querier) (map[int]*State, error) {
	states := map[int]*State{}
	rows, err := q.QueryContext(ctx, r.d.tableExists())
	if err != nil {
		return nil, fmt.Errorf("look for %s: %w", Table, err)
	}
	exists := rows.Next()
	if err := closeRows(rows); err != nil || !exists {
		return states, err
	}
	rows, err = q.QueryContext(ctx, `SELECT version, name, phase, checksum, revision, started_at, duration_ms FROM `+Table+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", Table, err)
	}
	for rows.Next() {
		var a Applied
		var ms int64
		if err := rows.Scan(&a.Version, &a.Name, &a.Phase, &a.Checksum, &a.Revision, &a.StartedAt, &ms); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read %s: %w", Table, err)
		}
		a.Duration = time.Duration(ms) * time.Millisecond
		st := stateOf(states, a.Version)
		st.Name = a.Name
		switch a.Phase {
		case PhaseExpand:
			st.Expand = &a
		case PhaseContract:
			st.Contract = &a
		case PhaseDown:
			st.Expand, st.Contract = nil, nil
		}
	}
	return states, closeRows(rows)
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}
