package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/api/apitest"
	"github.com/cutover/cutover/internal/cli"
	"github.com/cutover/cutover/internal/testbin"
)

// TestMigrateLint runs the real cutover binary (built without the race detector, which
// makes the WebAssembly PostgreSQL parser compile for minutes) on migration directories.
func TestMigrateLint(t *testing.T) {
	bin := testbin.Cutover(t)
	clean, flagged, malformed := t.TempDir(), t.TempDir(), t.TempDir()
	write := func(dir, name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(clean, "0001_items.sql", "-- +cutover expand\nCREATE TABLE items (id bigint PRIMARY KEY);\n")
	write(flagged, "0001_items.sql", "-- +cutover expand\nCREATE TABLE items (id bigint PRIMARY KEY, name text);\n")
	write(flagged, "0002_index.sql", "-- +cutover expand\n-- +cutover lock_timeout 2s\n-- +cutover statement_timeout 5m\nCREATE INDEX items_name ON items (name);\n")
	write(malformed, "0001_items.sql", "-- +cutover expand\nCREATE TABLE items (id bigint);\nSELEC 1;\n")

	run := func(args ...string) (int, string) {
		cmd := exec.CommandContext(t.Context(), bin, append([]string{"--state", t.TempDir()}, args...)...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("cutover %v: %v", args, err)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
	code, out := run("migrate", "lint", clean)
	if code != 0 || !strings.Contains(out, "0 finding(s), 0 blocking") {
		t.Errorf("lint of a clean dir: exit %d\n%s", code, out)
	}
	// One run with -o json: the finding's file:line, rule and safe alternative.
	code, out = run("migrate", "lint", "-o", "json", flagged)
	var res api.MigrationLint
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != cli.ExitFindings || res.Blocking != 1 || len(res.Findings) != 1 {
		t.Fatalf("lint -o json of CREATE INDEX: exit %d, %+v (%v), want exit 10 and one blocking finding\n%s", code, res, err, out)
	}
	f := res.Findings[0]
	if f.File != filepath.Join(flagged, "0002_index.sql") || f.Line != 4 || f.Rule != "create-index-non-concurrently" || !strings.Contains(f.Message, "CONCURRENTLY") {
		t.Errorf("finding %+v, want 0002_index.sql:4 create-index-non-concurrently with the safe alternative", f)
	}
	code, out = run("migrate", "lint", malformed)
	if code != cli.ExitFindings || !strings.Contains(out, "0001_items.sql:3: syntax") {
		t.Errorf("lint of malformed SQL: exit %d, want 10 naming 0001_items.sql:3\n%s", code, out)
	}
	code, out = run("migrate", "lint", filepath.Join(clean, "missing"))
	if code != cli.ExitUsage || !strings.Contains(out, "missing") {
		t.Errorf("lint of a missing dir: exit %d, want 2\n%s", code, out)
	}
}

// migrateStub answers the migration routes for the CLI's own tests; the daemon's tests run
// them against real databases.
type migrateStub struct {
	got api.MigrateRequest
}

func (m *migrateStub) MigrationStatus(_ context.Context, service string) (api.MigrationStatus, error) {
	return api.MigrationStatus{Service: service, Driver: "postgres", Dir: "/m", Revision: 2, Running: []int{1, 2},
		Migrations: []api.MigrationState{{Version: 1, Name: "items", File: "/m/0001_items.sql", HasContract: true,
			Expand: &api.MigrationApplied{Revision: 2}, CarriedBy: []int{2}, ContractBlockedBy: []int{1}},
			{Version: 2, Name: "rename", File: "/m/0002_rename.sql", HasContract: true, Expand: &api.MigrationApplied{Revision: 2},
				Contract: &api.MigrationApplied{Revision: 2}, CarriedBy: []int{2}, Incompatible: []int{1}}}}, nil
}

func (m *migrateStub) MigrationPlan(_ context.Context, service string) (api.MigrationPlan, error) {
	return api.MigrationPlan{Service: service, Contract: []api.MigrationStep{{Version: 1, Name: "items", Phase: "contract", Blocked: "revision(s) [1] still run"}}}, nil
}

func (m *migrateStub) MigrateUp(context.Context, string, api.MigrateRequest) (api.MigrationRun, error) {
	return api.MigrationRun{Applied: []api.MigrationApplied{{Version: 2, Name: "more", Phase: "expand", Revision: 2}}}, nil
}

func (m *migrateStub) MigrateContract(_ context.Context, _ string, req api.MigrateRequest) (api.MigrationRun, error) {
	m.got = req
	if !req.Force {
		return api.MigrationRun{}, fmt.Errorf("contract refused: revision(s) [1] still run: %w", api.ErrConflict)
	}
	return api.MigrationRun{}, nil
}

func (m *migrateStub) MigrateDown(_ context.Context, _ string, req api.MigrateRequest) (api.MigrationRun, error) {
	m.got = req
	return api.MigrationRun{}, nil
}

func TestMigrateCommands(t *testing.T) {
	stub := &migrateStub{}
	srv := httptest.NewServer(api.NewHandler(&apitest.Backend{}, token, slog.New(slog.DiscardHandler), api.WithMigrations(stub)))
	t.Cleanup(srv.Close)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"migrate", "status", "web"}, 0, "applied (rev 2, 0ms)  pending"},
		{[]string{"migrate", "status", "web"}, 0, "schema-incompatible: revision(s) 1 predate the applied contract of migration 2"},
		{[]string{"migrate", "plan", "web"}, 0, "waits: revision(s) [1] still run"},
		{[]string{"migrate", "up", "web"}, 0, "applied 2 more: expand part"},
		{[]string{"migrate", "contract", "web"}, 7, "revision(s) [1] still run"},
		{[]string{"migrate", "contract", "web", "--force"}, 2, "--reason"},
		{[]string{"migrate", "down", "web"}, 2, "--to"},
		{[]string{"migrate", "down", "web", "--to", "0"}, 0, "nothing to apply"},
	}
	for _, c := range cases {
		r := runCLI(t, srv.URL, c.args...)
		if r.code != c.code || !strings.Contains(r.stdout+r.stderr, c.want) {
			t.Errorf("%v: exit %d, want %d and %q\nstdout: %s\nstderr: %s", c.args, r.code, c.code, c.want, r.stdout, r.stderr)
		}
	}
	if r := runCLI(t, srv.URL, "migrate", "contract", "web", "--force", "--reason", "drained"); r.code != 0 || stub.got.Reason != "drained" || !stub.got.Force {
		t.Errorf("contract --force --reason: exit %d, request %+v\n%s", r.code, stub.got, r.stderr)
	}
	r := runCLI(t, srv.URL, "-o", "json", "migrate", "status", "web")
	var st api.MigrationStatus
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || len(st.Migrations) != 2 || st.Migrations[0].ContractBlockedBy[0] != 1 {
		t.Errorf("status -o json: %v %+v\n%s", err, st, r.stdout)
	}
}

// TestRollbackForceFlags: --force needs --reason and changes nothing without it; with it
// both reach the daemon; a refusal is a conflict (exit 7) with the daemon's message.
func TestRollbackForceFlags(t *testing.T) {
	var got []api.RollbackRequest
	b := &apitest.Backend{RollbackFunc: func(_ context.Context, service string, req api.RollbackRequest) (api.Deployment, error) {
		got = append(got, req)
		if !req.Force {
			return api.Deployment{}, fmt.Errorf("revision 1 predates contract 0002_rename.sql: %w", api.ErrConflict)
		}
		return api.Deployment{ID: 9, Service: service, Kind: "rollback", Status: "running", To: req.To}, nil
	}}
	srv := httptest.NewServer(api.NewHandler(b, token, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	if r := runCLI(t, srv.URL, "rollback", "web", "--to", "1", "--force"); r.code != 2 || !strings.Contains(r.stderr, "--reason") || len(got) != 0 {
		t.Errorf("rollback --force without --reason: exit %d, %d request(s), want exit 2 before any request\n%s", r.code, len(got), r.stderr)
	}
	if r := runCLI(t, srv.URL, "rollback", "web", "--to", "1"); r.code != 7 || !strings.Contains(r.stderr, "predates contract 0002_rename.sql") {
		t.Errorf("refused rollback: exit %d, want 7 with the daemon's message\n%s", r.code, r.stderr)
	}
	r := runCLI(t, srv.URL, "rollback", "web", "--to", "1", "--force", "--reason", "v1 never reads name")
	if r.code != 0 || len(got) != 2 || !got[1].Force || got[1].Reason != "v1 never reads name" || got[1].To != 1 {
		t.Errorf("rollback --force --reason: exit %d, requests %+v\n%s", r.code, got, r.stderr)
	}
}
