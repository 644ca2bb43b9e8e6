package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Secret is one version of a service's secret env value. Value is plain here and sealed in
// the file, bound to its service and name; a nil Value records that the secret was unset.
type Secret struct {
	Service   string
	Name      string
	Version   int
	Value     []byte
	CreatedAt time.Time
	CreatedBy string
}

// errNoSealer refuses to keep secrets in a store opened without a sealer.
var errNoSealer = errors.New("the store has no seal key: secrets are only kept sealed")

func secretLabel(service, name string) string { return "store/secret/" + service + "/" + name }

// PutSecret records the next version of sec's name (a nil Value unsets it) in one statement
// and returns it as stored. A store opened without a sealer refuses it.
func (s *Store) PutSecret(ctx context.Context, sec Secret) (Secret, error) {
	op := "put secret " + sec.Name + " of " + sec.Service
	if s.sealer == nil {
		return Secret{}, fmt.Errorf("%s: %w", op, errNoSealer)
	}
	var sealed []byte
	if sec.Value != nil {
		sealed = s.sealer.Seal(secretLabel(sec.Service, sec.Name), sec.Value)
	}
	sec.CreatedAt = now()
	err := s.writer().QueryRowContext(ctx, `
INSERT INTO secrets (service, name, version, value, created_at, created_by)
SELECT ?, ?, COALESCE(MAX(version), 0) + 1, ?, ?, ? FROM secrets WHERE service = ? AND name = ?
RETURNING version`,
		sec.Service, sec.Name, sealed, nanos(sec.CreatedAt), sec.CreatedBy, sec.Service, sec.Name).Scan(&sec.Version)
	if err != nil {
		return Secret{}, s.fault(wrap(op, err))
	}
	return sec, nil
}

// Secrets returns the service's secrets that are set now, each at its latest version,
// opened, ordered by name.
func (s *Store) Secrets(ctx context.Context, service string) ([]Secret, error) {
	op := "list secrets of " + service
	rows, err := s.reader().QueryContext(ctx, `
SELECT name, version, value, created_at, created_by FROM secrets AS s
WHERE service = ? AND version = (SELECT MAX(version) FROM secrets WHERE service = s.service AND name = s.name)
  AND value IS NOT NULL
ORDER BY name`, service)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []Secret
	for rows.Next() {
		sec := Secret{Service: service}
		var c int64
		var sealed sql.RawBytes
		if err := rows.Scan(&sec.Name, &sec.Version, &sealed, &c, &sec.CreatedBy); err != nil {
			return nil, wrap(op, err)
		}
		if s.sealer == nil {
			return nil, fmt.Errorf("%s: %w", op, errNoSealer)
		}
		if sec.Value, err = s.sealer.Open(secretLabel(service, sec.Name), sealed); err != nil {
			return nil, fmt.Errorf("%s: open %s: %w", op, sec.Name, err)
		}
		sec.CreatedAt = fromNanos(c)
		out = append(out, sec)
	}
	return out, wrap(op, rows.Err())
}
