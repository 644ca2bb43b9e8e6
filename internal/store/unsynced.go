package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
)

// inTxUnsynced runs fn in a new transaction that commits without waiting for the disk
// (synchronous = NORMAL for this one commit; the store's connections otherwise run with
// FULL). In WAL mode such a commit survives the process's crash (kill -9) at once, since the
// log is written before Commit returns, and a power loss once a later commit of this store,
// synced as usual, has flushed the log. It is for a record that must exist before an act
// the process performs at once, and that the caller makes durable before it acknowledges.
func (s *Store) inTxUnsynced(ctx context.Context, fn func(q querier) error) error {
	if s.tx != nil {
		return errors.New("unsynced transaction: the store is bound to a transaction")
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return s.fault(fmt.Errorf("writer connection: %w", err))
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		return s.fault(fmt.Errorf("relax synchronous: %w", err))
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = FULL"); err != nil {
			// Never leave the writer relaxed: the pool opens a new connection instead.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return s.fault(fmt.Errorf("begin transaction: %w", err))
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return s.fault(err)
	}
	if err := tx.Commit(); err != nil {
		return s.fault(fmt.Errorf("commit transaction: %w", err))
	}
	return nil
}
