package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/api/apitest"
	"github.com/cutover/cutover/internal/cli"
)

func TestDeployWaitExitCodes(t *testing.T) {
	tests := []struct {
		status  string
		want    int
		outcome string
	}{
		{"succeeded", cli.ExitOK, "deployment 7 of web succeeded: revision 2 is stable"},
		{"failed", cli.ExitFailed, "deployment 7 of web failed: new instances never became ready"},
		{"rolled_back", cli.ExitRolledBack, "deployment 7 of web rolled back to revision 1: new instances never became ready"},
		{"aborted", cli.ExitAborted, "deployment 7 of web aborted; revision 1 serves: new instances never became ready"},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			s := newSim(tt.status, "starting 2 instances", "rolling (1/2 new available)", "rolling (2/2 new available)")
			r := runCLI(t, daemon(t, s.backend()), "deploy", "web", "--image", "app:2", "--wait")
			if r.code != tt.want {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", r.code, tt.want, r.stdout, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			var got []string
			for _, l := range lines {
				// Progress lines start with the local time; drop it to compare.
				if _, rest, ok := strings.Cut(l, " deployment 7 "); ok && len(l) > 8 && l[2] == ':' {
					l = "deployment 7 " + rest
				}
				got = append(got, l)
			}
			want := []string{
				"deployment 7 of web started (revision 1 → 2, rolling)",
				"deployment 7 starting 2 instances",
				"deployment 7 rolling (1/2 new available)",
				"deployment 7 rolling (2/2 new available)",
				tt.outcome,
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("stdout (-got +want):\n%s", diff)
			}
			if r.stderr != "" {
				t.Errorf("stderr %q, want nothing", r.stderr)
			}
		})
	}
}

func TestDeployWaitJSON(t *testing.T) {
	s := newSim("rolled_back", "a", "b")
	r := runCLI(t, daemon(t, s.backend()), "-o", "json", "deploy", "web", "--wait")
	if r.code != cli.ExitRolledBack {
		t.Fatalf("exit %d, want %d; stderr %q", r.code, cli.ExitRolledBack, r.stderr)
	}
	var d api.Deployment
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("stdout is not one Deployment: %v\n%s", err, r.stdout)
	}
	if d.ID != 7 || d.Status != "rolled_back" {
		t.Errorf("printed deployment %d %s, want 7 rolled_back", d.ID, d.Status)
	}
}

func TestDeployWaitTimeout(t *testing.T) {
	s := newSim("running") // never ends, no events
	r := runCLI(t, daemon(t, s.backend()), "deploy", "web", "--wait", "--timeout", "300ms")
	if r.code != cli.ExitTimeout {
		t.Fatalf("exit %d, want %d; stderr %q", r.code, cli.ExitTimeout, r.stderr)
	}
	want := "error: wait for deployment 7 of web: timed out after 300ms; it continues (see 'cutover status web')\n"
	if r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}

func TestDeployWithoutWait(t *testing.T) {
	var got api.DeployRequest
	b := &apitest.Backend{DeployFunc: func(_ context.Context, req api.DeployRequest) (api.Deployment, error) {
		got = req
		return api.Deployment{ID: 3, Service: "web", Kind: "deploy", To: 1, Strategy: "recreate",
			Status: "running", Warnings: []string{"recreate stops every instance first: downtime"}}, nil
	}}
	url := daemon(t, b)
	spec := filepath.Join(t.TempDir(), "web.yaml")
	os.WriteFile(spec, []byte("name: web\n"), 0o600)
	r := runCLI(t, url, "deploy", "web", "--spec", spec, "--set", "replicas=3", "--set", "a.b=x,y",
		"--env", "K=V=W", "--message", "first")
	if r.code != 0 || r.stdout != "deployment 3 of web started (revision 1, recreate)\n" ||
		r.stderr != "warning: recreate stops every instance first: downtime\n" {
		t.Errorf("deploy: %+v", r)
	}
	want := api.DeployRequest{Service: "web", Spec: "name: web\n", SpecFile: spec, Set: []string{"replicas=3", "a.b=x,y"},
		Env: []string{"K=V=W"}, Message: "first", Who: got.Who}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("request (-got +want):\n%s", diff)
	}
	r = runCLI(t, url, "-o", "json", "deploy", "web")
	var d api.Deployment
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || d.ID != 3 {
		t.Errorf("deploy -o json: %v, stdout %q", err, r.stdout)
	}
}

func TestAPIErrorExitCodes(t *testing.T) {
	fields := []api.FieldError{{Path: "run.command", Line: 4, Message: "required"}}
	tests := []struct {
		name   string
		err    error
		want   int
		stderr string
	}{
		{"conflict", fmt.Errorf("deploy web: deployment 6 is running: %w", api.ErrConflict), cli.ExitConflict,
			"error: deploy web: deployment 6 is running: conflict\n"},
		{"not found", fmt.Errorf("service web: %w", api.ErrNotFound), cli.ExitNotFound, "error: service web: not found\n"},
		{"invalid", fmt.Errorf("--set x=y: unknown field x: %w", api.ErrInvalid), cli.ExitUsage,
			"error: --set x=y: unknown field x: invalid input\n"},
		{"validation", fmt.Errorf("deploy web: %w", &api.ValidationError{File: "web.yaml", Fields: fields}), cli.ExitUsage,
			"error: deploy web: invalid spec web.yaml\n  run.command (line 4): required\n"},
		{"internal", errors.New("database is locked"), cli.ExitError, "error: internal error\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &apitest.Backend{DeployFunc: func(context.Context, api.DeployRequest) (api.Deployment, error) {
				return api.Deployment{}, tt.err
			}}
			r := runCLI(t, daemon(t, b), "deploy", "web", "--wait")
			if r.code != tt.want || r.stderr != tt.stderr || r.stdout != "" {
				t.Errorf("exit %d stderr %q stdout %q; want exit %d stderr %q", r.code, r.stderr, r.stdout, tt.want, tt.stderr)
			}
		})
	}
}

func TestUnreachableAndUnauthorized(t *testing.T) {
	srv := httptest.NewServer(api.NewHandler(&apitest.Backend{}, token, slog.New(slog.DiscardHandler)))
	url := srv.URL
	r := runWith(t, cli.Commands{}, "--state", t.TempDir(), "--addr", url, "--token", "nope", "pause", "web")
	if r.code != cli.ExitUnauthorized {
		t.Errorf("wrong token: exit %d, stderr %q", r.code, r.stderr)
	}
	srv.Close()
	r = runCLI(t, url, "pause", "web")
	if r.code != cli.ExitError || !strings.HasPrefix(r.stderr, "error: reach cutover daemon at "+url) {
		t.Errorf("daemon down: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	url := daemon(t, &apitest.Backend{})
	tests := [][]string{
		{"deploy"},
		{"deploy", "web", "extra"},
		{"deploy", "web", "--bogus"},
		{"deploy", "web", "--set", "novalue"},
		{"deploy", "web", "--env", "=v"},
		{"deploy", "web", "--wait", "--timeout", "0s"},
		{"deploy", "web", "--timeout", "soon"},
		{"deploy", "web", "--spec", "/does/not/exist.yaml"},
		{"rollback", "web", "--to", "x"},
		{"-o", "yaml", "status"},
		{"-o", "json", "status", "--watch"},
		{"status", "a", "b"},
		{"frobnicate"},
		{"promote", "web", "--full=maybe"},
		{"serve", "--log-level", "loud"},
		{"demo", "--rate", "0"},
		{"events", "--limit", "0"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			cmds := cli.Commands{Serve: func(context.Context, cli.ServeOptions) error { return nil }}
			global := []string{"--state", t.TempDir(), "--addr", url, "--token", token}
			r := runWith(t, cmds, append(global, args...)...)
			if r.code != cli.ExitUsage {
				t.Errorf("exit %d, want %d; stderr %q", r.code, cli.ExitUsage, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "error: ") || strings.Count(r.stderr, "error: ") != 1 {
				t.Errorf("stderr %q, want one error line", r.stderr)
			}
		})
	}
}

func TestDeployHelpDocumentsExitCodes(t *testing.T) {
	r := runWith(t, cli.Commands{}, "deploy", "--help")
	for _, want := range []string{"Exit codes:", "4  deployment rolled back", "6  timed out waiting", "--wait"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("deploy --help lacks %q", want)
		}
	}
	if r.code != 0 {
		t.Errorf("--help: exit %d", r.code)
	}
}

func TestDeployWaitInterrupted(t *testing.T) {
	s := newSim("running")
	url := daemon(t, s.backend())
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	var out, errb strings.Builder
	code := cli.Main(ctx, []string{"--state", t.TempDir(), "--addr", url, "--token", token, "deploy", "web", "--wait"},
		strings.NewReader(""), &out, &errb, cli.Commands{})
	want := "error: stopped waiting for deployment 7 of web; it continues (see 'cutover status web')\n"
	if code != cli.ExitError || errb.String() != want {
		t.Errorf("interrupted: exit %d, stderr %q; want %d, %q", code, errb.String(), cli.ExitError, want)
	}
}

// TestDeployWaitPrintsFinalVerdict: a canary that ends, promoted or rolled back, has its
// final verdict printed after the outcome.
func TestDeployWaitPrintsFinalVerdict(t *testing.T) {
	for _, tt := range []struct {
		status  string
		verdict api.Verdict
		want    string
	}{
		{"succeeded", api.Verdict{Outcome: "pass", Rule: "min_requests", Reason: "no regression found: canary 0 errors in 600 requests"},
			"verdict: pass (min_requests): no regression found: canary 0 errors in 600 requests"},
		{"rolled_back", api.Verdict{Outcome: "fail", Rule: "latency", Reason: "canary is slower than the baseline"},
			"verdict: fail (latency): canary is slower than the baseline"},
		{"rolled_back", api.Verdict{Outcome: "fail", Rule: "error_ratio", Reason: "canary errors more often", Summary: "fail: canary revision 2 with stable revision 1 over 130 canary and 475 baseline requests; rule error_ratio: …"},
			"verdict: fail: canary revision 2 with stable revision 1 over 130 canary and 475 baseline requests; rule error_ratio: …"},
	} {
		d := api.Deployment{ID: 7, Service: "web", From: 1, To: 2, Strategy: "canary", Status: tt.status, Verdict: &tt.verdict}
		b := &apitest.Backend{
			DeployFunc:     func(context.Context, api.DeployRequest) (api.Deployment, error) { return d, nil },
			DeploymentFunc: func(context.Context, int64) (api.Deployment, error) { return d, nil },
			EventsFunc:     func(context.Context, api.EventQuery) ([]api.Event, error) { return nil, nil },
		}
		r := runCLI(t, daemon(t, b), "deploy", "web", "--image", "app:2", "--wait")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if got := lines[len(lines)-1]; got != tt.want {
			t.Errorf("%s: last line %q, want %q (stdout %q)", tt.status, got, tt.want, r.stdout)
		}
	}
}
