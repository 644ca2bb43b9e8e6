package store

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMigrationFilesStoredWithRevision: the files go in with the revision, come back as
// given (an empty file included), belong to their revision only and go when it is pruned.
func TestMigrationFilesStoredWithRevision(t *testing.T) {
	s := openTest(t)
	files := []MigrationFile{
		{Name: "0001_items.sql", Content: []byte("-- +cutover expand\nCREATE TABLE items (id int);\n")},
		{Name: "0002_empty.sql", Content: []byte{}},
	}
	rev, d, err := s.BeginDeployment(t.Context(), Service{Name: "web"}, Revision{SpecHash: "h1", Migrations: files}, Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	finish(t, s, d)
	got, err := s.MigrationFiles(t.Context(), "web", rev.Number)
	if err != nil {
		t.Fatal(err)
	}
	want := []MigrationFile{
		{Name: "0001_items.sql", Content: files[0].Content, Checksum: checksum(files[0].Content)},
		{Name: "0002_empty.sql", Checksum: checksum(nil)}, // an empty BLOB reads back as nil
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("MigrationFiles(web, 1) (-got +want):\n%s", diff)
	}
	deployN(t, s, 2) // revisions 2 and 3, without files
	if got, err := s.MigrationFiles(t.Context(), "web", 2); err != nil || len(got) != 0 {
		t.Errorf("MigrationFiles(web, 2) = %v, %v; want none", got, err)
	}
	if _, err := s.PruneRevisions(t.Context(), "web", 1, nil); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.r.QueryRowContext(t.Context(), `SELECT count(*) FROM revision_migrations`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d migration files left after revision 1 was pruned (%v), want 0", n, err)
	}
}

// TestMigrationFilesBadNameChangesNothing: a file that cannot be stored refuses the whole
// deployment: no revision, no deployment, no file.
func TestMigrationFilesBadNameChangesNothing(t *testing.T) {
	s := openTest(t)
	files := []MigrationFile{{Name: "0001_ok.sql", Content: []byte("x")}, {Name: "../0002_escape.sql", Content: []byte("y")}}
	_, _, err := s.BeginDeployment(t.Context(), Service{Name: "web"}, Revision{SpecHash: "h1", Migrations: files}, Deployment{})
	if err == nil {
		t.Fatal("BeginDeployment with a path as a file name: no error")
	}
	if got := revNumbers(t, s, "web"); got != nil {
		t.Errorf("revisions %v after a refused insert, want none", got)
	}
	if _, err := s.ActiveDeployment(t.Context(), "web"); !errors.Is(err, ErrNotFound) {
		t.Errorf("active deployment after a refused insert: %v, want ErrNotFound", err)
	}
	var n int
	if err := s.r.QueryRowContext(t.Context(), `SELECT count(*) FROM revision_migrations`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d migration files after a refused insert (%v), want 0", n, err)
	}
}

// TestMigrationFilesCorruptRefused: content changed behind the store's back is an error.
func TestMigrationFilesCorruptRefused(t *testing.T) {
	s := openTest(t)
	files := []MigrationFile{{Name: "0001_items.sql", Content: []byte("CREATE TABLE items (id int);")}}
	if _, _, err := s.BeginDeployment(t.Context(), Service{Name: "web"}, Revision{Migrations: files}, Deployment{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(t.Context(), `UPDATE revision_migrations SET content = CAST('DROP TABLE items;' AS BLOB)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MigrationFiles(t.Context(), "web", 1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("MigrationFiles after the content changed: %v, want ErrCorrupt", err)
	}
}
