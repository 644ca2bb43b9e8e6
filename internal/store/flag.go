package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Flags is the store's feature flags and segments with their audit history (Store.Flags).
type Flags struct{ s *Store }

// Flags reaches the flags and their history, in s's transaction when s is bound to one.
func (s *Store) Flags() Flags { return Flags{s} }

// FlagItem is the current value of one feature flag or segment.
type FlagItem struct {
	// Kind is "flag" or "segment"; the store does not interpret it beyond keying by it.
	Kind string
	Key  string
	// Value is JSON; the store does not read it.
	Value     []byte
	UpdatedAt time.Time
}

// FlagRecord is one audited change of a flag or segment: who did what, and the value before
// and after as JSON (nil when the item did not exist, or was deleted).
type FlagRecord struct {
	ID     int64 // set by Flags.Apply, increasing, never reused
	Time   time.Time
	Actor  string
	Action string
	Kind   string
	Key    string
	Before []byte
	After  []byte
}

// FlagHistoryFilter selects audit records: each non-zero field narrows the selection.
type FlagHistoryFilter struct {
	Kind string
	Key  string
	// BeforeID selects records with a smaller ID (paging backwards); 0 means no bound.
	BeforeID int64
	// Limit caps the number returned; 0 means 100.
	Limit int
}

// Items returns every stored flag and segment, ordered by kind and key.
func (fl Flags) Items(ctx context.Context) ([]FlagItem, error) {
	rows, err := fl.s.reader().QueryContext(ctx, `SELECT kind, key, value, updated_at FROM flag_items ORDER BY kind, key`)
	if err != nil {
		return nil, wrap("list flags", err)
	}
	defer rows.Close()
	var out []FlagItem
	for rows.Next() {
		var it FlagItem
		var t int64
		if err := rows.Scan(&it.Kind, &it.Key, &it.Value, &t); err != nil {
			return nil, wrap("list flags", err)
		}
		it.UpdatedAt = fromNanos(t)
		out = append(out, it)
	}
	return out, wrap("list flags", rows.Err())
}

// Apply, in one transaction (the bound one, if any), stores each record's After
// under (Kind, Key), or deletes that item when After is empty, and appends the record to the
// history. A zero Time becomes now. It returns the records with ID and Time set. Either every
// record is applied or none is.
func (fl Flags) Apply(ctx context.Context, recs []FlagRecord) ([]FlagRecord, error) {
	out := make([]FlagRecord, len(recs))
	err := fl.s.inTx(ctx, func(q querier) error {
		for i, r := range recs {
			if r.Kind == "" || r.Key == "" {
				return fmt.Errorf("apply flag change: empty kind or key (%q, %q)", r.Kind, r.Key)
			}
			if r.Time.IsZero() {
				r.Time = now()
			}
			r.Time = r.Time.UTC()
			if err := applyFlagItem(ctx, q, r); err != nil {
				return err
			}
			err := q.QueryRowContext(ctx, `
INSERT INTO flag_history (time, actor, action, kind, key, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)
RETURNING id`, nanos(r.Time), r.Actor, r.Action, r.Kind, r.Key, blob(r.Before), blob(r.After)).Scan(&r.ID)
			if err != nil {
				return wrap("record flag change of "+r.Kind+" "+r.Key, err)
			}
			out[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// applyFlagItem stores or deletes the item r changes.
func applyFlagItem(ctx context.Context, q querier, r FlagRecord) error {
	op := "store " + r.Kind + " " + r.Key
	if len(r.After) == 0 {
		_, err := q.ExecContext(ctx, `DELETE FROM flag_items WHERE kind = ? AND key = ?`, r.Kind, r.Key)
		return wrap(op, err)
	}
	_, err := q.ExecContext(ctx, `
INSERT INTO flag_items (kind, key, value, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		r.Kind, r.Key, r.After, nanos(r.Time))
	return wrap(op, err)
}

// History returns the audit records f selects, newest first.
func (fl Flags) History(ctx context.Context, f FlagHistoryFilter) ([]FlagRecord, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.Key != "" {
		where, args = append(where, "key = ?"), append(args, f.Key)
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := fl.s.reader().QueryContext(ctx, `SELECT id, time, actor, action, kind, key, before, after
FROM flag_history WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, wrap("flag history", err)
	}
	defer rows.Close()
	var out []FlagRecord
	for rows.Next() {
		var r FlagRecord
		var t int64
		if err := rows.Scan(&r.ID, &t, &r.Actor, &r.Action, &r.Kind, &r.Key, &r.Before, &r.After); err != nil {
			return nil, wrap("flag history", err)
		}
		r.Time = fromNanos(t)
		out = append(out, r)
	}
	return out, wrap("flag history", rows.Err())
}
