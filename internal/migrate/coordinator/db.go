package coordinator

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/spec"
)

// openDatabase connects to the service's database. The error names the env key that holds
// the DSN and never contains the DSN or its password.
func (c *Coordinator) openDatabase(ctx context.Context, s spec.Service) (*migrate.Runner, error) {
	db := s.Database
	dsn := databaseDSN(s)
	r, err := migrate.Open(ctx, db.Driver, dsn,
		migrate.WithLogger(c.logger.With("component", "migrate", "service", s.Name)),
		migrate.WithLockTimeout(db.LockTimeout.D()), migrate.WithStatementTimeout(db.StatementTimeout.D()))
	if err != nil {
		return nil, fmt.Errorf("connect to the %s database of run.env %s: %w", db.Driver, db.DSNEnv, scrubDSN(err, s.Run.Env[db.DSNEnv]))
	}
	return r, nil
}

// databaseDSN is the DSN from the spec's env; a relative SQLite path is the app's, so it
// resolves against run.dir.
func databaseDSN(s spec.Service) string {
	dsn := s.Run.Env[s.Database.DSNEnv]
	if s.Database.Driver == spec.DriverSQLite && s.Run.Dir != "" && !strings.HasPrefix(dsn, "file:") &&
		!filepath.IsAbs(dsn) && dsn != ":memory:" {
		return filepath.Join(s.Run.Dir, dsn)
	}
	return dsn
}

var keywordPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)

// dsnError is an error whose text has had a DSN taken out; it keeps the chain for errors.Is.
type dsnError struct {
	msg string
	err error
}

func (e *dsnError) Error() string { return e.msg }
func (e *dsnError) Unwrap() error { return e.err }

// scrubDSN removes dsn and any password in it from err's text.
func scrubDSN(err error, dsn string) error {
	msg := err.Error()
	secrets := []string{}
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			secrets = append(secrets, pw, url.QueryEscape(pw))
		}
	}
	for _, m := range keywordPassword.FindAllStringSubmatch(dsn, -1) {
		secrets = append(secrets, strings.Trim(m[2], "'"))
	}
	if dsn != "" {
		msg = strings.ReplaceAll(msg, dsn, spec.Redaction)
	}
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, spec.Redaction)
		}
	}
	msg = keywordPassword.ReplaceAllString(msg, "${1}"+spec.Redaction)
	return &dsnError{msg: msg, err: errors.Unwrap(err)}
}

// loadMigrations loads the spec's migrations directory, which must be absolute here.
func loadMigrations(db *spec.Database) ([]migrate.Migration, error) {
	if !filepath.IsAbs(db.Migrations) {
		return nil, fmt.Errorf("%q is relative: the daemon needs an absolute path (the cutover CLI resolves it against the spec file's directory)", db.Migrations)
	}
	return migrate.Load(db.Migrations)
}

// migrationParts is what a revision carries: each migration's version and section checksums.
func migrationParts(migs []migrate.Migration) []spec.MigrationPart {
	out := make([]spec.MigrationPart, 0, len(migs))
	for _, m := range migs {
		p := spec.MigrationPart{Version: m.Version, Expand: m.Expand.Checksum}
		if m.Contract != nil {
			p.Contract = m.Contract.Checksum
		}
		out = append(out, p)
	}
	return out
}

// sameParts reports whether migs are still what the revision recorded.
func sameParts(db *spec.Database, migs []migrate.Migration) bool {
	return slices.Equal(migrationParts(migs), db.Parts)
}

// appliedData converts a version table row for events and the API.
func appliedData(a migrate.Applied) map[string]any {
	return map[string]any{"version": a.Version, "name": a.Name, "phase": string(a.Phase), "revision": a.Revision,
		"duration_ms": a.Duration.Milliseconds()}
}

// recordApplied records one event per part applied.
func (c *Coordinator) recordApplied(ctx context.Context, service string, deploymentID int64, applied []migrate.Applied) {
	for _, a := range applied {
		msg := fmt.Sprintf("migration %d %s: %s part applied for revision %d in %s", a.Version, a.Name, a.Phase, a.Revision, a.Duration.Round(1e6))
		c.rec.Event(ctx, service, deploymentID, "migration_applied", msg, appliedData(a))
	}
}
