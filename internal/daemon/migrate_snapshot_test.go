package daemon

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/migrate/coordinator"
	"github.com/cutover/cutover/internal/testbin"
)

const (
	itemsExpand   = "-- +cutover lock_timeout 2s\n-- +cutover expand\nCREATE TABLE items (id bigint PRIMARY KEY, name text, extra text);\n"
	itemsContract = itemsExpand + "\n-- +cutover contract\nALTER TABLE items DROP COLUMN name;\n"
	moreMigration = "-- +cutover lock_timeout 2s\n-- +cutover expand\nCREATE TABLE more (id bigint PRIMARY KEY, note text);\n\n-- +cutover contract\nALTER TABLE more DROP COLUMN note;\n"
)

// startMigrateDaemon is newMigrateHarness on a given state directory and contract check
// interval, so that a test can stop the daemon and start another on the same state. Its
// stop may be called more than once.
func startMigrateDaemon(t *testing.T, stateDir string, contractCheck time.Duration) *harness {
	t.Helper()
	return startWith(t, Options{StateDir: stateDir, ContractCheck: contractCheck, Lint: coordinator.LintWithBinary(testbin.Cutover(t))})
}

func mustSucceed(t *testing.T, h *harness, what string, dep api.Deployment) {
	t.Helper()
	if d := h.wait(dep.ID, 30*time.Second); d.Status != "succeeded" {
		t.Fatalf("%s: %s %s", what, d.Status, d.Reason)
	}
}

func waitVersionRows(t *testing.T, db *sql.DB, want []string) {
	t.Helper()
	waitFor(t, 20*time.Second, strings.Join(want, ", "), func() bool { return slices.Equal(versionRows(t, db), want) })
}

// columns lists the table's columns in order.
func columns(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query("SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position", table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// sectionSum is the checksum the runner records for a section of a migration file's text.
func sectionSum(t *testing.T, text string, ph migrate.Phase) string {
	t.Helper()
	m, err := migrate.Parse("0001_items.sql", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return m.Section(ph).Checksum
}

func recordedSum(t *testing.T, db *sql.DB, version int, phase string) string {
	t.Helper()
	var sum string
	if err := db.QueryRow("SELECT checksum FROM "+migrate.Table+" WHERE version = $1 AND phase = $2", version, phase).Scan(&sum); err != nil {
		t.Fatalf("checksum of %d %s: %v", version, phase, err)
	}
	return sum
}

func allEvents(t *testing.T, h *harness) []api.Event {
	t.Helper()
	evs, err := h.client.Events(context.Background(), api.EventQuery{Service: "web", Limit: 1000}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestRollbackPredatingContractRefused (PostgreSQL): once revision 2's contract dropped
// items.name, a rollback to revision 1, which predates it, is refused naming the file and
// the contract, and changes nothing but a rollback_refused event; --force needs a reason
// and, with one, rolls back and records it.
func TestRollbackPredatingContractRefused(t *testing.T) {
	dsn, db := pgDatabase(t)
	h := newMigrateHarness(t)
	ctx := context.Background()
	listen, dir := freeAddr(t), t.TempDir()
	writeFiles(t, dir, map[string]string{"0001_items.sql": itemsExpand})
	spec := appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1,
		Env: map[string]string{"DATABASE_URL": dsn}, Extra: dbSpec("postgres", dir, "")}
	mustSucceed(t, h, "revision 1", h.deploy(spec))
	writeFiles(t, dir, map[string]string{"0001_items.sql": itemsContract})
	spec.Version = "v2"
	mustSucceed(t, h, "revision 2", h.deploy(spec))
	waitVersionRows(t, db, []string{"1 expand r1", "1 contract r2"})

	before := allEvents(t, h)
	deps, _ := h.client.Deployments(ctx, "web", 0)
	_, err := h.client.Rollback(ctx, "web", api.RollbackRequest{To: 1, Who: "test"})
	if !errors.Is(err, api.ErrConflict) {
		t.Fatalf("rollback to revision 1: %v, want a conflict", err)
	}
	for _, want := range []string{"revision 1 predates contract 0001_items.sql applied at", "by revision 2", "--force"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	svc, err := h.client.Service(ctx, "web")
	if err != nil || svc.Stable != 2 {
		t.Errorf("stable revision %d (%v) after a refused rollback, want 2", svc.Stable, err)
	}
	if after, _ := h.client.Deployments(ctx, "web", 0); len(after) != len(deps) {
		t.Errorf("%d deployments after a refused rollback, want %d", len(after), len(deps))
	}
	after := allEvents(t, h)
	if len(after) != len(before)+1 || after[len(after)-1].Type != "rollback_refused" {
		var types []string
		for _, e := range after[min(len(before), len(after)):] {
			types = append(types, e.Type)
		}
		t.Errorf("new events %q, want only rollback_refused", types)
	}
	assertServes(t, listen, "v2")

	st, err := h.client.MigrationStatus(ctx, "web")
	if err != nil || len(st.Migrations) != 1 || !slices.Equal(st.Migrations[0].Incompatible, []int{1}) {
		t.Errorf("status %+v (%v): want revision 1 shown incompatible with migration 1", st, err)
	}
	if _, err := h.client.Rollback(ctx, "web", api.RollbackRequest{To: 1, Force: true}); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("rollback --force without a reason: %v, want invalid", err)
	}
	rb, err := h.client.Rollback(ctx, "web", api.RollbackRequest{To: 1, Who: "test", Force: true, Reason: "v1 never reads items"})
	if err != nil {
		t.Fatalf("forced rollback: %v", err)
	}
	mustSucceed(t, h, "forced rollback", rb)
	forced := false
	for _, e := range deploymentEvents(t, h, rb.ID) {
		forced = forced || e.Type == "rollback_forced" && strings.Contains(e.Message, "v1 never reads items") && strings.Contains(e.Message, "0001_items.sql")
	}
	if !forced {
		t.Errorf("the forced rollback has no rollback_forced event with the reason and the contract")
	}
	assertServes(t, listen, "v1")
	if got := versionRows(t, db); len(got) != 2 {
		t.Errorf("version table %q after the forced rollback, want it unchanged", got)
	}
}

// TestAutomaticRollbackToContractCarrier (PostgreSQL): revision 1 applied its own contract;
// revision 2's canary crashes and the deployment rolls back to revision 1 by itself. That
// rollback is allowed (revision 1 carries the contract), runs no migration part, and
// revision 2's own contract never runs.
func TestAutomaticRollbackToContractCarrier(t *testing.T) {
	dsn, db := pgDatabase(t)
	h := newMigrateHarness(t)
	listen, dir := freeAddr(t), t.TempDir()
	writeFiles(t, dir, map[string]string{"0001_items.sql": itemsContract})
	spec := appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1,
		Env: map[string]string{"DATABASE_URL": dsn}, Extra: dbSpec("postgres", dir, "")}
	mustSucceed(t, h, "revision 1", h.deploy(spec))
	waitVersionRows(t, db, []string{"1 expand r1", "1 contract r1"})

	writeFiles(t, dir, map[string]string{"0002_more.sql": moreMigration})
	bad := spec
	bad.Version, bad.Strategy = "v2", "canary: {steps: [{weight: 50}, {pause: {}}]}\n"
	bad.Env = map[string]string{"DATABASE_URL": dsn, "STARTUP_DELAY": "300ms", "EXIT_AFTER": "100ms"}
	dep := h.deploy(bad)
	if got := h.wait(dep.ID, 60*time.Second); got.Status != "rolled_back" {
		t.Fatalf("crashing canary: %s %q, want rolled_back", got.Status, got.Reason)
	}
	assertServes(t, listen, "v1")
	// Several contract checks pass; revision 2 never served, so its contract must not run.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if got, want := versionRows(t, db), []string{"1 expand r1", "1 contract r1", "2 expand r2"}; !slices.Equal(got, want) {
			t.Fatalf("version table %q, want %q", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, e := range allEvents(t, h) {
		if e.Type == "rollback_refused" || e.Type == "rollback_forced" {
			t.Errorf("event %s: %s", e.Type, e.Message)
		}
	}
	st, err := h.client.MigrationStatus(context.Background(), "web")
	if err != nil || len(st.Migrations) != 2 || len(st.Migrations[0].Incompatible) != 0 {
		t.Errorf("status %+v (%v): want no revision incompatible with migration 1", st, err)
	}
}

// TestRetryRunsTheRecordedMigrations (PostgreSQL): a migration fails, its file is edited,
// and a retry of the failed revision runs the SQL the revision recorded, not the file's;
// a new deploy of the edited file is then refused showing both checksums.
func TestRetryRunsTheRecordedMigrations(t *testing.T) {
	dsn, db := pgDatabase(t)
	h := newMigrateHarness(t)
	ctx := context.Background()
	listen, dir := freeAddr(t), t.TempDir()
	spec := appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1,
		Env: map[string]string{"DATABASE_URL": dsn}, Extra: dbSpec("postgres", dir, "")}
	mustSucceed(t, h, "revision 1", h.deploy(spec))

	if _, err := db.Exec("CREATE TABLE items (squatter int)"); err != nil {
		t.Fatal(err)
	}
	original := itemsExpand
	writeFiles(t, dir, map[string]string{"0001_items.sql": original})
	spec.Version = "v2"
	dep := h.deploy(spec)
	if got := h.wait(dep.ID, 30*time.Second); got.Status != "failed" || !strings.Contains(got.Reason, filepath.Join(dir, "0001_items.sql")+":3") {
		t.Fatalf("deployment over an existing table: %s %q, want failed naming %s:3", got.Status, got.Reason, filepath.Join(dir, "0001_items.sql"))
	}
	edited := strings.Replace(original, "name text, extra text", "label text", 1)
	writeFiles(t, dir, map[string]string{"0001_items.sql": edited, "0002_more.sql": moreMigration})
	if _, err := db.Exec("DROP TABLE items"); err != nil {
		t.Fatal(err)
	}
	retry, err := h.client.Act(ctx, "web", "retry")
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	mustSucceed(t, h, "retry", retry)
	if got, want := versionRows(t, db), []string{"1 expand r2"}; !slices.Equal(got, want) {
		t.Errorf("version table %q, want %q (the recorded revision has no migration 2)", got, want)
	}
	if got, want := recordedSum(t, db, 1, "expand"), sectionSum(t, original, migrate.PhaseExpand); got != want {
		t.Errorf("recorded checksum %s, want the deployed file's %s", got, want)
	}
	if got, want := columns(t, db, "items"), []string{"id", "name", "extra"}; !slices.Equal(got, want) {
		t.Errorf("items columns %q, want %q (the SQL recorded with the revision)", got, want)
	}
	st, err := h.client.MigrationStatus(ctx, "web")
	if err != nil || len(st.Migrations) != 1 || len(st.Migrations[0].Changed) != 0 {
		t.Errorf("status %+v (%v): want the revision's own migration 1, unchanged", st, err)
	}
	spec.Version = "v3"
	_, err = h.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: h.yaml(spec), Who: "test"})
	if !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), sectionSum(t, original, migrate.PhaseExpand)) ||
		!strings.Contains(err.Error(), sectionSum(t, edited, migrate.PhaseExpand)) {
		t.Errorf("deploy of the edited file: %v; want it refused showing both checksums", err)
	}
}

// TestContractFromSnapshotAfterRestart (PostgreSQL): the daemon stops between a revision's
// expand and its contract, the file's contract is edited meanwhile, and the next daemon
// runs the contract the revision recorded.
func TestContractFromSnapshotAfterRestart(t *testing.T) {
	dsn, db := pgDatabase(t)
	state, dir := t.TempDir(), t.TempDir()
	first := startMigrateDaemon(t, state, time.Hour) // the contract waits past this daemon's life
	writeFiles(t, dir, map[string]string{"0001_items.sql": itemsContract})
	spec := appSpec{Name: "web", Listen: freeAddr(t), Version: "v1", Replicas: 1,
		Env: map[string]string{"DATABASE_URL": dsn}, Extra: dbSpec("postgres", dir, "")}
	mustSucceed(t, first, "revision 1", first.deploy(spec))
	if got, want := versionRows(t, db), []string{"1 expand r1"}; !slices.Equal(got, want) {
		t.Fatalf("version table %q before the restart, want %q", got, want)
	}
	first.stop()

	edited := strings.Replace(itemsContract, "DROP COLUMN name", "DROP COLUMN extra", 1)
	writeFiles(t, dir, map[string]string{"0001_items.sql": edited})
	startMigrateDaemon(t, state, 50*time.Millisecond)
	waitVersionRows(t, db, []string{"1 expand r1", "1 contract r1"})
	if got, want := recordedSum(t, db, 1, "contract"), sectionSum(t, itemsContract, migrate.PhaseContract); got != want {
		t.Errorf("recorded contract checksum %s, want the deployed file's %s", got, want)
	}
	if got, want := columns(t, db, "items"), []string{"id", "extra"}; !slices.Equal(got, want) {
		t.Errorf("items columns %q, want %q (the contract recorded with the revision drops name)", got, want)
	}
}

// TestDeployLintNamesTheFile (PostgreSQL): the linter reads the copy the revision would
// record, and a blocking finding still names the file in the migrations directory, at its
// line; the deploy changes nothing.
func TestDeployLintNamesTheFile(t *testing.T) {
	dsn, db := pgDatabase(t)
	h := newMigrateHarness(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"0001_items.sql": itemsExpand,
		"0002_index.sql": "-- +cutover expand\n-- +cutover lock_timeout 2s\n\nCREATE INDEX items_name ON items (name);\n",
	})
	spec := appSpec{Name: "web", Listen: freeAddr(t), Version: "v1", Replicas: 1,
		Env: map[string]string{"DATABASE_URL": dsn}, Extra: dbSpec("postgres", dir, "")}
	_, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: "web", Spec: h.yaml(spec), Who: "test"})
	var ve *api.ValidationError
	want := filepath.Join(dir, "0002_index.sql") + ":4: create-index-non-concurrently"
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), want) {
		t.Fatalf("deploy of CREATE INDEX: %v; want a validation error naming %s", err, want)
	}
	if rows := versionRows(t, db); len(rows) != 0 {
		t.Errorf("version table %q after a refused deploy, want none", rows)
	}
}

// TestRevisionWithoutCopyChecksTheDirectory (PostgreSQL): a revision recorded before the
// store kept migration files (simulated by deleting its copy) runs from the directory, and
// refuses to once the files no longer match what the revision recorded.
func TestRevisionWithoutCopyChecksTheDirectory(t *testing.T) {
	dsn, db := pgDatabase(t)
	state, dir := t.TempDir(), t.TempDir()
	first := startMigrateDaemon(t, state, time.Hour)
	writeFiles(t, dir, map[string]string{"0001_items.sql": itemsContract})
	spec := appSpec{Name: "web", Listen: freeAddr(t), Version: "v1", Replicas: 1,
		Env: map[string]string{"DATABASE_URL": dsn}, Extra: dbSpec("postgres", dir, "")}
	mustSucceed(t, first, "revision 1", first.deploy(spec))
	first.stop()
	if _, err := openSQLite(t, filepath.Join(state, "state.db")).Exec("DELETE FROM revision_migrations"); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"0001_items.sql": strings.Replace(itemsContract, "DROP COLUMN name", "DROP COLUMN extra", 1)})
	second := startMigrateDaemon(t, state, 50*time.Millisecond)
	waitFor(t, 20*time.Second, "the waiting contract to fail", func() bool {
		for _, e := range allEvents(t, second) {
			if e.Type == "migration_failed" && strings.Contains(e.Message, "not the ones it recorded") {
				return true
			}
		}
		return false
	})
	if got, want := versionRows(t, db), []string{"1 expand r1"}; !slices.Equal(got, want) {
		t.Errorf("version table %q, want %q (no contract from changed files)", got, want)
	}
}
