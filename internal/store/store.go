// Package store owns cutover's embedded state: services, revisions, deployments,
// instances, events, feature flags with their audit history, and SDK token hashes in one
// SQLite file (pure-Go driver modernc.org/sqlite), with its own ordered schema migrations.
//
// It stores specs, deployment state and flags as opaque JSON bytes and must not import
// other cutover packages or know what those bytes mean. It never overwrites a file
// it does not understand: a file that is not a SQLite database, is corrupted, or has
// a newer schema than this binary knows is refused untouched. A write the storage refuses
// (disk full, read-only or failing file system) fails with a *WriteError naming the file and
// the OS error, keeps nothing, and leaves the Store usable once the storage recovers.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is wrapped by every method that looks up a row that does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is wrapped by methods that create a row whose name is taken.
var ErrExists = errors.New("already exists")

// ConflictError is returned (wrapped) by BeginDeployment when the service already
// has a deployment that is running or paused.
type ConflictError struct {
	Service      string
	DeploymentID int64
	Status       string
}

// Error reads "service web has deployment 12 running".
func (e *ConflictError) Error() string {
	return fmt.Sprintf("service %s has deployment %d %s", e.Service, e.DeploymentID, e.Status)
}

// Store is the state file. It is safe for concurrent use by many goroutines:
// writes go through one connection (SQLite allows one writer at a time) and reads
// outside a transaction use a separate pool, so they see the last committed state
// and are not blocked by a long write transaction (WAL mode).
//
// A Store passed to the function given to Tx is bound to that transaction: its
// reads and writes all happen inside it. Do not use the outer Store for writes
// inside that function: the writer is busy with the transaction and the call
// would wait until ctx ends.
type Store struct {
	path string
	w    *sql.DB // one connection; every write and transaction
	r    *sql.DB // read-only pool for reads outside a transaction
	tx   *sql.Tx // set on a Store bound to a transaction
	// sealer, when set, seals specs before they are written and opens them when read.
	sealer Sealer
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Close closes the state file. Calling it on a Store bound to a transaction is an error.
func (s *Store) Close() error {
	if s.tx != nil {
		return errors.New("close store: store is bound to a transaction")
	}
	return errors.Join(wrap("close store", s.r.Close()), wrap("close store", s.w.Close()))
}

// Tx runs fn in one transaction with a Store bound to it (same methods), for
// callers that must change several rows atomically. If fn returns an error or
// panics, nothing it did is kept, and fn's error is returned as is. Called on a
// Store already bound to a transaction, Tx runs fn in that same transaction.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.fault(fmt.Errorf("begin transaction: %w", err))
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(&Store{path: s.path, w: s.w, r: s.r, tx: tx, sealer: s.sealer}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.fault(fmt.Errorf("commit transaction: %w", err))
	}
	return nil
}

// inTx runs fn in the bound transaction, or in a new one.
func (s *Store) inTx(ctx context.Context, fn func(q querier) error) error {
	return s.fault(s.Tx(ctx, func(tx *Store) error { return fn(tx.tx) }))
}

// writer is where single-statement writes go.
func (s *Store) writer() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.w
}

// reader is where reads go: the bound transaction, so it sees its own writes, or the read pool.
func (s *Store) reader() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.r
}

// now is the store's clock, in UTC.
func now() time.Time { return time.Now().UTC() }

// nanos stores a time as UTC unix nanoseconds, the zero time as 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// blob stores an empty byte slice as NULL, so that it reads back as nil.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// wrap adds the operation to a non-nil error.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}

// notFound turns sql.ErrNoRows into ErrNotFound, wrapped with the operation.
func notFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return wrap(op, err)
}

// affectedOne reports ErrNotFound when an update matched no row.
func affectedOne(op string, res sql.Result, err error) error {
	if err != nil {
		return wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}
