package coordinator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// readMigrations reads the spec's migrations directory once and parses what it read, so
// that the files a revision records are exactly the ones that were checked and linted.
func readMigrations(db *spec.Database) ([]store.MigrationFile, []migrate.Migration, error) {
	if !filepath.IsAbs(db.Migrations) {
		return nil, nil, fmt.Errorf("%q is relative: the daemon needs an absolute path (the cutover CLI resolves it against the spec file's directory)", db.Migrations)
	}
	entries, err := os.ReadDir(db.Migrations)
	if err != nil {
		return nil, nil, fmt.Errorf("load migrations: %w", err)
	}
	var files []store.MigrationFile
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(db.Migrations, e.Name()))
		if err != nil {
			return nil, nil, fmt.Errorf("load migrations: %w", err)
		}
		files = append(files, store.MigrationFile{Name: e.Name(), Content: data})
	}
	migs, err := parseMigrations(db.Migrations, files)
	if err != nil {
		return nil, nil, err
	}
	return files, migs, nil
}

// parseMigrations parses files as if they were in dir (errors and steps name dir/file:line)
// and sorts them by version. Every problem found is joined in the error.
func parseMigrations(dir string, files []store.MigrationFile) ([]migrate.Migration, error) {
	parts := make([]migrate.File, len(files))
	for i, f := range files {
		parts[i] = migrate.File{Name: f.Name, Content: f.Content}
	}
	return migrate.ParseFiles(dir, parts)
}

// revisionMigrations returns the migrations revision rev of service carries: the files
// copied into the store when it was deployed, whatever the directory holds now. A revision
// recorded before the store kept them (it has parts but no files) falls back to the
// directory, which must still match the checksums the revision recorded.
func (c *Coordinator) revisionMigrations(ctx context.Context, service string, rev int, db *spec.Database) ([]migrate.Migration, error) {
	files, err := c.store.MigrationFiles(ctx, service, rev)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 && len(db.Parts) == 0 {
		return nil, nil // the revision carries no migration
	}
	var migs []migrate.Migration
	if len(files) > 0 {
		migs, err = parseMigrations(db.Migrations, files)
	} else {
		migs, err = loadMigrations(db)
	}
	if err == nil && !sameParts(db, migs) {
		err = fmt.Errorf("the migrations of revision %d are not the ones it recorded (files in %s changed since?): deploy again to record them", rev, db.Migrations)
	}
	if err != nil {
		return nil, fmt.Errorf("migrations of revision %d: %w", rev, err)
	}
	return migs, nil
}
