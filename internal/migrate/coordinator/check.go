package coordinator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// CheckDatabase refuses a spec whose migrations cannot run: a directory that is missing or
// malformed, blocking lint findings, a database that does not answer, an applied part whose
// file changed. It changes nothing. On success it records in s the parts the revision
// carries and returns a note per lint override, to be recorded with the deployment, and
// the files as read, to be stored with the revision (what it runs, whatever happens to
// the directory later).
func (c *Coordinator) CheckDatabase(ctx context.Context, s *spec.Service) ([]string, []store.MigrationFile, error) {
	db := s.Database
	if db == nil {
		return nil, nil, nil
	}
	files, migs, err := readMigrations(db)
	if err != nil {
		return nil, nil, fieldErrors("database.migrations", err)
	}
	return c.checkFiles(ctx, s, files, migs)
}

// CheckCarried is CheckDatabase for a revision whose migration files come with it (a
// promotion from another environment) rather than from its directory on this machine.
func (c *Coordinator) CheckCarried(ctx context.Context, s *spec.Service, files []store.MigrationFile) ([]string, []store.MigrationFile, error) {
	db := s.Database
	if db == nil {
		return nil, nil, nil
	}
	migs, err := parseMigrations(db.Migrations, files)
	if err != nil {
		return nil, nil, fieldErrors("database.migrations", err)
	}
	return c.checkFiles(ctx, s, files, migs)
}

// checkFiles lints the migrations read or carried, checks them against the database and
// records their parts in s.
func (c *Coordinator) checkFiles(ctx context.Context, s *spec.Service, files []store.MigrationFile, migs []migrate.Migration) ([]string, []store.MigrationFile, error) {
	db := s.Database
	var err error
	var notes []string
	if db.Driver == spec.DriverPostgres {
		if notes, err = c.lintForDeploy(ctx, db.Migrations, files, migs); err != nil {
			return nil, nil, err
		}
	}
	r, err := c.openDatabase(ctx, *s)
	if err != nil {
		return nil, nil, &api.ValidationError{Fields: []api.FieldError{{Path: "database.dsn_env", Message: err.Error()}}}
	}
	defer r.Close()
	if _, err := r.Plan(ctx, migs); err != nil {
		var ce *migrate.ChecksumError
		if errors.As(err, &ce) {
			return nil, nil, fieldErrors("database.migrations", err)
		}
		return nil, nil, fmt.Errorf("read the version table of run.env %s: %w: %w", db.DSNEnv, scrubDSN(err, s.Run.Env[db.DSNEnv]), api.ErrConflict)
	}
	db.Parts = migrationParts(migs)
	return notes, files, nil
}

// lintForDeploy lints migs and refuses blocking findings; overridden ones become notes.
// Config.Lint gets a copy of files, the ones the revision records; without it the real
// PostgreSQL parser runs in this process (its first call compiles it: seconds). Findings
// name the files in dir.
func (c *Coordinator) lintForDeploy(ctx context.Context, dir string, files []store.MigrationFile, migs []migrate.Migration) ([]string, error) {
	key := lintKey(files)
	found, ok := c.lints.get(key)
	if !ok {
		var err error
		if c.lint == nil {
			found = migrate.Lint(migs)
		} else if found, err = lintCopy(ctx, c.lint, files, migs); err != nil {
			return nil, fmt.Errorf("lint migrations in %s: %w", dir, err)
		}
		c.lints.put(key, found)
	}
	for i := range found {
		found[i].File = filepath.Join(dir, filepath.Base(found[i].File))
	}
	var notes []string
	ve := &api.ValidationError{}
	for _, f := range found {
		if f.Override != nil {
			notes = append(notes, fmt.Sprintf("lint %s overridden at %s:%d (%s): %s", f.Rule, f.File, f.Override.Line, f.Override.Reason, f.Message))
			continue
		}
		if f.Style() {
			notes = append(notes, "lint warning: "+f.String())
			continue
		}
		ve.Fields = append(ve.Fields, api.FieldError{Path: "database.migrations", Message: f.String()})
	}
	if len(ve.Fields) > 0 {
		return nil, ve
	}
	return notes, nil
}

// lintCopy runs lint on a temporary directory holding files.
func lintCopy(ctx context.Context, lint Linter, files []store.MigrationFile, migs []migrate.Migration) ([]migrate.Finding, error) {
	tmp, err := os.MkdirTemp("", "cutover-lint-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(tmp, f.Name), f.Content, 0o600); err != nil {
			return nil, err
		}
	}
	return lint(ctx, tmp, migs)
}

// fieldErrors turns err (possibly joined) into a validation error with one message per line.
func fieldErrors(path string, err error) error {
	ve := &api.ValidationError{}
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			ve.Fields = append(ve.Fields, api.FieldError{Path: path, Message: line})
		}
	}
	return ve
}
