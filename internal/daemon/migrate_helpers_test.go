package daemon

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/pgtest"
)

// newMigrateHarness is newHarness with fast contract checks and, for PostgreSQL specs, the
// real linter run by the cutover binary: the race detector makes the WebAssembly parser
// compile for over a minute in this process, and the binary is built without it.
func newMigrateHarness(t *testing.T) *harness {
	t.Helper()
	return startMigrateDaemon(t, "", 50*time.Millisecond)
}

// writeFiles writes name → text into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// dbSpec is the spec's database section for driver, dsn and dir, with extra lines.
func dbSpec(driver, dir, extra string) string {
	return fmt.Sprintf("database:\n  driver: %s\n  migrations: %s\n%s", driver, dir, extra)
}

// versionRows reads the version table as "version phase rN" lines, in order.
func versionRows(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT version, phase, revision FROM "+migrate.Table+" ORDER BY id")
	if err != nil {
		return nil // no table: nothing applied
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v, rev int
		var phase string
		if err := rows.Scan(&v, &phase, &rev); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %s r%d", v, phase, rev))
	}
	return out
}

func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// pgDatabase creates a database of the test's own on $CUTOVER_TEST_PG_DSN and returns its
// DSN and a handle; without a server it skips, except under CI=true.
func pgDatabase(t *testing.T) (string, *sql.DB) {
	t.Helper()
	return pgtest.Database(t, "cutover_daemon_")
}

// eventTypes lists the deployment's events as "type" or "type:detail" strings, in order.
func deploymentEvents(t *testing.T, h *harness, id int64) []api.Event {
	t.Helper()
	evs, err := h.client.Events(context.Background(), api.EventQuery{DeploymentID: id, Limit: 1000}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
