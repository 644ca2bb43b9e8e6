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
