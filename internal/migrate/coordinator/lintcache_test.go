package coordinator

import (
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/store"
)

// TestLintRunsOncePerMigrationSet: a deployment carrying the files already linted reuses the
// findings (the parser takes seconds to start); a changed file is linted again, and the
// findings still name the deployment's own directory.
func TestLintRunsOncePerMigrationSet(t *testing.T) {
	calls := 0
	lint := func(_ context.Context, dir string, _ []migrate.Migration) ([]migrate.Finding, error) {
		calls++
		return []migrate.Finding{{Rule: "test-rule", File: dir + "/0001_a.sql", Line: 2, Message: "flagged"}}, nil
	}
	c := New(Config{Lint: lint})
	files := []store.MigrationFile{{Name: "0001_a.sql", Content: []byte("-- +cutover expand\nCREATE INDEX i ON t (c);\n")}}
	for i, dir := range []string{"/srv/one", "/srv/two"} {
		_, err := c.lintForDeploy(context.Background(), dir, files, nil)
		if err == nil || !strings.Contains(err.Error(), dir+"/0001_a.sql:2") {
			t.Fatalf("deploy %d: %v, want the finding at %s/0001_a.sql:2", i, err, dir)
		}
	}
	if calls != 1 {
		t.Errorf("linted %d times for the same files, want 1", calls)
	}
	files[0].Content = append(files[0].Content, "-- changed\n"...)
	if _, err := c.lintForDeploy(context.Background(), "/srv/one", files, nil); err == nil {
		t.Fatalf("changed files: no finding")
	}
	if calls != 2 {
		t.Errorf("linted %d times after a change, want 2", calls)
	}
}
