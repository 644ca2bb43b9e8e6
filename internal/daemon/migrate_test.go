package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/migrate"
)

const createItems = "-- +cutover expand\nCREATE TABLE items (id INTEGER PRIMARY KEY, old_name TEXT);\n"

// TestExpandRunsBeforeInstancesStart: each deployment applies its pending expand parts,
// recorded for its revision, before any instance of that revision starts.
func TestExpandRunsBeforeInstancesStart(t *testing.T) {
	h := newMigrateHarness(t)
	listen, dir := freeAddr(t), t.TempDir()
	dbPath := filepath.Join(t.TempDir(), "app.db")
	writeFiles(t, dir, map[string]string{"0001_items.sql": createItems})
	spec := appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1,
		Env: map[string]string{"DATABASE_URL": dbPath}, Extra: dbSpec("sqlite", dir, "")}
	if d := h.wait(h.deploy(spec).ID, 30*time.Second); d.Status != "succeeded" {
		t.Fatalf("first deployment: %s %s", d.Status, d.Reason)
	}
	writeFiles(t, dir, map[string]string{"0002_name.sql": "-- +cutover expand\nALTER TABLE items ADD COLUMN name TEXT;\n"})
	spec.Version = "v2"
	second := h.deploy(spec)
	if d := h.wait(second.ID, 30*time.Second); d.Status != "succeeded" {
		t.Fatalf("second deployment: %s %s", d.Status, d.Reason)
	}
	db := openSQLite(t, dbPath)
	if got, want := versionRows(t, db), []string{"1 expand r1", "2 expand r2"}; !slices.Equal(got, want) {
		t.Errorf("version table %q, want %q", got, want)
	}
	var applied, started int64
	for _, e := range deploymentEvents(t, h, second.ID) {
		if e.Type == "migration_applied" && applied == 0 {
			applied = e.ID
		}
		if e.Type == "instance_started" && started == 0 {
			started = e.ID
		}
	}
	if applied == 0 || started == 0 || applied > started {
		t.Errorf("events: migration_applied #%d, first instance_started #%d; want the migration first", applied, started)
	}
	var rowStart time.Time
	var ms int64
	if err := db.QueryRow("SELECT started_at, duration_ms FROM "+migrate.Table+" WHERE version = 2").Scan(&rowStart, &ms); err != nil {
		t.Fatal(err)
	}
	svc, err := h.client.Service(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range svc.Instances {
		if in.Revision == 2 && in.Started.Before(rowStart.Add(time.Duration(ms)*time.Millisecond)) {
			t.Errorf("instance %s started at %s, before migration 2 ended (%s + %dms)", in.ID, in.Started, rowStart, ms)
		}
	}
}

// TestMigrationFailingHalfway (PostgreSQL): the 2nd of 3 migrations fails, so the deployment
// fails before any instance of its revision starts, the old revision keeps serving and the
// database holds migration 1 only; the reason names file:line.
func TestMigrationFailingHalfway(t *testing.T) {
	dsn, db := pgDatabase(t)
	h := newMigrateHarness(t)
	listen, dir := freeAddr(t), t.TempDir()
	spec := appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1,
		Env: map[string]string{"DATABASE_URL": dsn}, Extra: dbSpec("postgres", dir, "")}
	if d := h.wait(h.deploy(spec).ID, 30*time.Second); d.Status != "succeeded" {
		t.Fatalf("first deployment: %s %s", d.Status, d.Reason)
	}
	writeFiles(t, dir, map[string]string{
		"0001_items.sql":  "-- +cutover expand\nCREATE TABLE items (id bigint PRIMARY KEY);\n",
		"0002_broken.sql": "-- +cutover expand\nINSERT INTO items VALUES (1);\nINSERT INTO missing_table VALUES (1);\n",
		"0003_more.sql":   "-- +cutover expand\nCREATE TABLE more (id bigint PRIMARY KEY);\n",
	})
	spec.Version = "v2"
	dep := h.deploy(spec)
	got := h.wait(dep.ID, 30*time.Second)
	if got.Status != "failed" || !strings.Contains(got.Reason, "0002_broken.sql:3") {
		t.Errorf("deployment %s %q, want failed naming 0002_broken.sql:3", got.Status, got.Reason)
	}
	if rows, want := versionRows(t, db), []string{"1 expand r2"}; !slices.Equal(rows, want) {
		t.Errorf("version table %q, want %q", rows, want)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM items").Scan(&n); err != nil || n != 0 {
		t.Errorf("items rows %d (%v): migration 2's first statement must be rolled back with it", n, err)
	}
	if err := db.QueryRow("SELECT count(*) FROM pg_tables WHERE tablename = 'more'").Scan(&n); err != nil || n != 0 {
		t.Errorf("table of migration 3 exists (%d, %v): the run must stop at the failure", n, err)
	}
	for _, e := range deploymentEvents(t, h, dep.ID) {
		if e.Type == "instance_started" {
			t.Errorf("an instance started in the failed deployment: %s", e.Message)
		}
	}
	if c := countRevision(t, h, "web", 2); c != 0 {
		t.Errorf("%d instances of revision 2, want none", c)
	}
	for range 5 {
		assertServes(t, listen, "v1")
	}
}

// TestContractAfterPromote: a contract part runs once the deployment succeeded and the old
// revision's instances are gone, never while they run; a rollback never runs one.
func TestContractAfterPromote(t *testing.T) {
	h := newMigrateHarness(t)
	listen, dir := freeAddr(t), t.TempDir()
	dbPath := filepath.Join(t.TempDir(), "app.db")
	db := openSQLite(t, dbPath)
	writeFiles(t, dir, map[string]string{"0001_items.sql": createItems})
	spec := appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1,
		Env: map[string]string{"DATABASE_URL": dbPath}, Extra: dbSpec("sqlite", dir, ""),
		Strategy: "blue_green: {scale_down_delay: 2s}\n"}
	if d := h.wait(h.deploy(spec).ID, 30*time.Second); d.Status != "succeeded" {
		t.Fatalf("first deployment: %s %s", d.Status, d.Reason)
	}
	writeFiles(t, dir, map[string]string{"0001_items.sql": createItems + "-- +cutover contract\nALTER TABLE items DROP COLUMN old_name;\n"})
	spec.Version = "v2"
	dep := h.deploy(spec)
	if d := h.wait(dep.ID, 30*time.Second); d.Status != "succeeded" {
		t.Fatalf("second deployment: %s %s", d.Status, d.Reason)
	}
	// Revision 1 stays warm for scale_down_delay: the contract must wait until it is gone.
	// The version table is read before the instances, so a contract seen together with an
	// instance of revision 1 ran while that instance was there.
	sawOld := false
	waitFor(t, 30*time.Second, "contract applied", func() bool {
		contracted := len(versionRows(t, db)) == 2
		old := countRevision(t, h, "web", 1)
		if contracted && old > 0 {
			t.Fatalf("contract applied while %d instance(s) of revision 1 still run", old)
		}
		sawOld = sawOld || old > 0
		return contracted
	})
	if !sawOld {
		t.Errorf("never saw revision 1 running after the switch: the test did not check the wait")
	}
	if got, want := versionRows(t, db), []string{"1 expand r1", "1 contract r2"}; !slices.Equal(got, want) {
		t.Errorf("version table %q, want %q", got, want)
	}

	// Revision 1 predates the applied contract: a rollback to it is refused, and forced it
	// runs no contract part and no expand part.
	writeFiles(t, dir, map[string]string{"0002_more.sql": "-- +cutover expand\nCREATE TABLE more (id INTEGER);\n-- +cutover contract\nDROP TABLE more;\n"})
	_, err := h.client.Rollback(context.Background(), "web", api.RollbackRequest{To: 1, Who: "test"})
	if !errors.Is(err, api.ErrConflict) || !strings.Contains(err.Error(), "predates contract 0001_items.sql") {
		t.Errorf("rollback to revision 1: %v, want a conflict naming the contract", err)
	}
	rb, err := h.client.Rollback(context.Background(), "web", api.RollbackRequest{To: 1, Who: "test", Force: true, Reason: "test"})
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if d := h.wait(rb.ID, 30*time.Second); d.Status != "succeeded" {
		t.Fatalf("rollback: %s %s", d.Status, d.Reason)
	}
	if got := versionRows(t, db); len(got) != 2 {
		t.Errorf("version table after the rollback %q, want it unchanged", got)
	}
	skipped := false
	for _, e := range deploymentEvents(t, h, rb.ID) {
		skipped = skipped || e.Type == "migrations_skipped"
	}
	if !skipped && rb.Strategy != "switch" {
		t.Errorf("rollback deployment has no migrations_skipped event")
	}
}

// TestContractRefusedWhileOlderRevisionRuns: `migrate contract` refuses during a deployment
// and, once the stable revision carries a contract part, while an instance of a revision
// that predates the part runs (here the warm blue of a blue-green switch); it runs with
// --force and a reason.
func TestContractRefusedWhileOlderRevisionRuns(t *testing.T) {
	h := newMigrateHarness(t)
	ctx := context.Background()
	listen, dir := freeAddr(t), t.TempDir()
	dbPath := filepath.Join(t.TempDir(), "app.db")
	db := openSQLite(t, dbPath)
	writeFiles(t, dir, map[string]string{"0001_items.sql": createItems})
	spec := appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1,
		Env: map[string]string{"DATABASE_URL": dbPath}, Extra: dbSpec("sqlite", dir, "  contract: next-deploy\n")}
	if d := h.wait(h.deploy(spec).ID, 30*time.Second); d.Status != "succeeded" {
		t.Fatalf("first deployment: %s %s", d.Status, d.Reason)
	}
	writeFiles(t, dir, map[string]string{"0001_items.sql": createItems + "-- +cutover contract\nALTER TABLE items DROP COLUMN old_name;\n"})
	// The canary keeps revision 1 running next to revision 2 until it is promoted.
	spec.Version, spec.Strategy = "v2", "canary: {steps: [{weight: 50}, {pause: {}}]}\n"
	dep := h.deploy(spec)
	waitFor(t, 30*time.Second, "canary at its manual pause", func() bool {
		d, err := h.client.Deployment(ctx, dep.ID)
		return err == nil && strings.Contains(d.Phase, "promote")
	})
	if _, err := h.client.MigrateContract(ctx, "web", api.MigrateRequest{}); !errors.Is(err, api.ErrConflict) {
		t.Errorf("contract during a deployment: %v, want conflict", err)
	}
	if _, err := h.client.Abort(ctx, "web"); err != nil {
		t.Fatalf("abort: %v", err)
	}
	h.wait(dep.ID, 30*time.Second)
	// Revision 3 carries the contract part; revision 1 stays warm and predates it.
	spec.Version, spec.Strategy = "v3", "blue_green: {scale_down_delay: 60s}\n"
	if d := h.wait(h.deploy(spec).ID, 30*time.Second); d.Status != "succeeded" {
		t.Fatalf("third deployment: %s %s", d.Status, d.Reason)
	}
	_, err := h.client.MigrateContract(ctx, "web", api.MigrateRequest{})
	if !errors.Is(err, api.ErrConflict) || !strings.Contains(err.Error(), "predate") {
		t.Errorf("contract while revision 1 runs: %v, want a conflict naming the revision", err)
	}
	if got := versionRows(t, db); len(got) != 1 {
		t.Errorf("version table %q after a refused contract, want the expand only", got)
	}
	plan, err := h.client.MigrationPlan(ctx, "web")
	if err != nil || len(plan.Contract) != 1 || plan.Contract[0].Blocked == "" {
		t.Errorf("plan %+v (%v): want one blocked contract step", plan, err)
	}
	st, err := h.client.MigrationStatus(ctx, "web")
	if err != nil || len(st.Migrations) != 1 || !slices.Equal(st.Migrations[0].ContractBlockedBy, []int{1}) {
		t.Errorf("status %+v (%v): want the contract blocked by revision 1", st, err)
	}
	if _, err := h.client.MigrateContract(ctx, "web", api.MigrateRequest{Force: true}); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("--force without reason: %v, want invalid", err)
	}
	res, err := h.client.MigrateContract(ctx, "web", api.MigrateRequest{Force: true, Reason: "test"})
	if err != nil || len(res.Applied) != 1 || res.Applied[0].Phase != "contract" {
		t.Errorf("forced contract: %+v %v", res, err)
	}
}

// TestDatabaseBadInput: every bad database setting is refused at deploy with the field and
// the cause, the DSN is never shown, and nothing changes.
func TestDatabaseBadInput(t *testing.T) {
	dsn, pg := pgDatabase(t)
	h := newMigrateHarness(t)
	ctx := context.Background()
	listen := freeAddr(t)
	good, broken, noExpand, empty := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	writeFiles(t, good, map[string]string{"0001_items.sql": "-- +cutover expand\nCREATE TABLE items (id bigint);\n"})
	writeFiles(t, broken, map[string]string{"0001_items.sql": "-- +cutover expand\nCREATE TABLE items (id bigint);\n\nCREATE TABLEX oops (id int);\n"})
	writeFiles(t, noExpand, map[string]string{"0001_items.sql": "-- +cutover contract\nALTER TABLE items DROP COLUMN x;\n"})
	const secret = "s3cretpw"
	unreachable := "postgres://app:" + secret + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=2"
	spec := func(env, extra string) api.DeployRequest {
		return api.DeployRequest{Service: "web", Spec: h.yaml(appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1,
			Env: map[string]string{"DATABASE_URL": env}, Extra: extra})}
	}
	cases := []struct {
		name, field, message string
		req                  api.DeployRequest
	}{
		{"unknown driver", "database.driver", "mysql", spec(dsn, dbSpec("mysql", good, ""))},
		{"dsn_env not in env", "database.dsn_env", "APP_DB", spec(dsn, dbSpec("postgres", good, "  dsn_env: APP_DB\n"))},
		{"dsn does not connect", "database.dsn_env", "DATABASE_URL", spec(unreachable, dbSpec("postgres", good, ""))},
		{"migrations dir missing", "database.migrations", "no such file", spec(dsn, dbSpec("postgres", filepath.Join(good, "nope"), ""))},
		{"relative migrations dir", "database.migrations", "relative", spec(dsn, dbSpec("postgres", "./migrations", ""))},
		{"contract without expand", "database.migrations", "0001_items.sql:1", spec(dsn, dbSpec("postgres", noExpand, ""))},
		{"malformed sql", "database.migrations", "0001_items.sql:4", spec(dsn, dbSpec("postgres", broken, ""))},
		{"empty dir is fine but bad contract", "database.contract", "sometime", spec(dsn, dbSpec("postgres", empty, "  contract: sometime\n"))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := h.client.Deploy(ctx, c.req)
			var ve *api.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), c.message) {
				t.Fatalf("deploy: %v; want a validation error mentioning %q", err, c.message)
			}
			if !slices.ContainsFunc(ve.Fields, func(f api.FieldError) bool { return f.Path == c.field }) {
				t.Errorf("fields %+v, want one at %s", ve.Fields, c.field)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), dsn) {
				t.Errorf("error shows the DSN: %v", err)
			}
			if _, err := h.client.Service(ctx, "web"); !errors.Is(err, api.ErrNotFound) {
				t.Errorf("service exists after a refused deploy: %v", err)
			}
		})
	}
	if rows := versionRows(t, pg); len(rows) != 0 {
		t.Errorf("version table %q after refused deploys, want none", rows)
	}
	evs, err := h.client.Events(ctx, api.EventQuery{Limit: 1000}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if strings.Contains(e.Message, secret) {
			t.Errorf("event shows the DSN password: %s", e.Message)
		}
	}
}

// TestDSNIsRedacted: the DSN's env key is redacted in history even without a password.
func TestDSNIsRedacted(t *testing.T) {
	h := newMigrateHarness(t)
	dir := t.TempDir()
	dbPath := filepath.Join(t.TempDir(), "app.db")
	spec := appSpec{Name: "web", Listen: freeAddr(t), Version: "v1", Replicas: 1,
		Env: map[string]string{"APP_DB": dbPath}, Extra: dbSpec("sqlite", dir, "  dsn_env: APP_DB\n")}
	if d := h.wait(h.deploy(spec).ID, 30*time.Second); d.Status != "succeeded" {
		t.Fatalf("deployment: %s %s", d.Status, d.Reason)
	}
	revs, err := h.client.History(context.Background(), "web")
	if err != nil || len(revs) != 1 {
		t.Fatalf("history: %v %v", revs, err)
	}
	if v := revs[0].Env["APP_DB"]; v != "[redacted]" {
		t.Errorf("APP_DB shown as %q, want redacted", v)
	}
}
