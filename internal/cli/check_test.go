package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cli"
)

// TestCheckExitCodes: `cutover check` tells "the check found errors" (10) from "the input
// could not be checked" (2): CI can fail a job on findings and still see a broken step.
func TestCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.Dockerfile", "FROM golang:1.24.2 AS build\nRUN go build -o /app .\n"+
		"FROM gcr.io/distroless/static:nonroot@sha256:"+strings.Repeat("a", 64)+"\nCOPY --from=build /app /app\nUSER nonroot\n"+
		"HEALTHCHECK CMD [\"/app\", \"-health\"]\nENTRYPOINT [\"/app\"]\n")
	write(".dockerignore", ".git\n")
	bad := write("bad.Dockerfile", "FROM node:latest\nCOPY . .\nCMD [\"node\", \"server.js\"]\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"clean", []string{"check", "--dockerfile", good}, cli.ExitOK},
		{"errors found", []string{"check", "--dockerfile", bad}, cli.ExitFindings},
		{"errors found, sarif", []string{"-o", "sarif", "check", "--dockerfile", bad}, cli.ExitFindings},
		{"nothing to check", []string{"check"}, cli.ExitUsage},
		{"unreadable file", []string{"check", "--dockerfile", filepath.Join(dir, "missing")}, cli.ExitUsage},
		{"bad flag", []string{"check", "--no-such-flag"}, cli.ExitUsage},
	} {
		r := runWith(t, cli.Commands{}, append([]string{"--state", dir}, tc.args...)...)
		if r.code != tc.code {
			t.Errorf("%s: cutover %v: exit %d, want %d\nstdout %s\nstderr %s", tc.name, tc.args, r.code, tc.code, r.stdout, r.stderr)
		}
	}
	if cli.ExitFindings == cli.ExitUsage {
		t.Error("ExitFindings must differ from ExitUsage")
	}
}

// TestComposeRequiredVariables: a compose file's ${VAR:?message} feeds the config check:
// `config check -f` lists every variable without a value, with its message and file:line
// (exit 10), and `deploy -f` refuses the same way (exit 2) before it asks the daemon anything.
func TestComposeRequiredVariables(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	doc := "services:\n  web:\n    image: app:${TAG:?set TAG to the release}\n    ports: [\"8080:8000\"]\n" +
		"    environment:\n      DATABASE_URL: ${CUTOVER_T_DB:?the database URL}\n"
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []string{
		file + ":3:16: ${TAG}: required variable TAG is not set: set TAG to the release",
		file + ":6:21: ${CUTOVER_T_DB}: required variable CUTOVER_T_DB is not set: the database URL",
	}
	t.Setenv("TAG", "")
	os.Unsetenv("TAG")
	r := runWith(t, cli.Commands{}, "--state", dir, "--addr", "http://127.0.0.1:1", "config", "check", "-f", file)
	if r.code != cli.ExitFindings {
		t.Errorf("config check -f: exit %d, want 10\n%s", r.code, r.stderr)
	}
	for _, w := range []string{
		"${TAG} (line 3): required variable TAG is not set: set TAG to the release",
		"${CUTOVER_T_DB} (line 6): required variable CUTOVER_T_DB is not set: the database URL",
	} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("config check -f: stderr %q, want %q", r.stderr, w)
		}
	}
	r = runWith(t, cli.Commands{}, "--state", dir, "--addr", "http://127.0.0.1:1", "deploy", "-f", file)
	if r.code != cli.ExitUsage {
		t.Errorf("deploy -f: exit %d, want 2\n%s", r.code, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("deploy -f: stderr %q, want %q", r.stderr, w)
		}
	}
	t.Setenv("TAG", "1.2")
	t.Setenv("CUTOVER_T_DB", "postgres://db/app")
	r = runWith(t, cli.Commands{}, "--state", dir, "--addr", "http://127.0.0.1:1", "config", "check", "-f", file)
	if r.code != 0 || !strings.Contains(r.stdout, "valid") {
		t.Errorf("config check -f with every variable set: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
