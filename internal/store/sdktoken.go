package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SDKToken is a named token that may only evaluate feature flags. Only its hash is stored:
// the token itself is shown once, when it is created, and cannot be read back.
type SDKToken struct {
	Name string
	// Hash is the hex SHA-256 of the token; unique.
	Hash      string
	CreatedAt time.Time
	CreatedBy string
}

// SDKTokens is the store's SDK token hashes (Store.SDKTokens).
type SDKTokens struct{ s *Store }

// SDKTokens reaches the SDK token hashes, in s's transaction when s is bound to one.
func (s *Store) SDKTokens() SDKTokens { return SDKTokens{s} }

// Create stores t (a zero CreatedAt becomes now) and returns it as stored. A taken
// name is an error wrapping ErrExists; nothing is changed then.
func (tk SDKTokens) Create(ctx context.Context, t SDKToken) (SDKToken, error) {
	op := "create sdk token " + t.Name
	if t.Name == "" || t.Hash == "" {
		return SDKToken{}, fmt.Errorf("%s: %w", op, errors.New("empty name or hash"))
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now()
	}
	t.CreatedAt = t.CreatedAt.UTC()
	res, err := tk.s.writer().ExecContext(ctx, `
INSERT INTO sdk_tokens (name, hash, created_at, created_by) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		t.Name, t.Hash, nanos(t.CreatedAt), t.CreatedBy)
	if err != nil {
		return SDKToken{}, tk.s.fault(wrap(op, err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return SDKToken{}, wrap(op, err)
	} else if n == 0 {
		return SDKToken{}, fmt.Errorf("%s: %w", op, ErrExists)
	}
	return t, nil
}

// List returns every SDK token, ordered by name.
func (tk SDKTokens) List(ctx context.Context) ([]SDKToken, error) {
	rows, err := tk.s.reader().QueryContext(ctx, `SELECT name, hash, created_at, created_by FROM sdk_tokens ORDER BY name`)
	if err != nil {
		return nil, wrap("list sdk tokens", err)
	}
	defer rows.Close()
	var out []SDKToken
	for rows.Next() {
		var t SDKToken
		var c int64
		if err := rows.Scan(&t.Name, &t.Hash, &c, &t.CreatedBy); err != nil {
			return nil, wrap("list sdk tokens", err)
		}
		t.CreatedAt = fromNanos(c)
		out = append(out, t)
	}
	return out, wrap("list sdk tokens", rows.Err())
}

// Delete removes the token named name, or returns an error wrapping ErrNotFound.
func (tk SDKTokens) Delete(ctx context.Context, name string) error {
	res, err := tk.s.writer().ExecContext(ctx, `DELETE FROM sdk_tokens WHERE name = ?`, name)
	return tk.s.fault(affectedOne("delete sdk token "+name, res, err))
}
