package cli_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/api/apitest"
	"github.com/cutover/cutover/internal/cli"
)

const token = "cli-test-token"

// result is what one run of the CLI produced.
type result struct {
	code           int
	stdout, stderr string
}

// daemon serves the real API handler over b on 127.0.0.1 and returns its URL.
func daemon(t *testing.T, b api.Backend) string {
	t.Helper()
	srv := httptest.NewServer(api.NewHandler(b, token, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// runCLI runs cli.Main against the daemon at url with the right token and a fresh state dir.
func runCLI(t *testing.T, url string, args ...string) result {
	t.Helper()
	global := []string{"--state", t.TempDir(), "--addr", url, "--token", token}
	return runWith(t, cli.Commands{}, append(global, args...)...)
}

// runWith runs cli.Main with exactly args and cmds.
func runWith(t *testing.T, cmds cli.Commands, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(t.Context(), args, strings.NewReader(""), &out, &errb, cmds)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// sim is a scripted deployment: each events request gets the next scripted event, and the
// deployment turns final (with status) once every event has been handed out.
type sim struct {
	mu     sync.Mutex
	steps  []string
	status string
	given  int
	dep    api.Deployment
}

func newSim(status string, steps ...string) *sim {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	return &sim{steps: steps, status: status, dep: api.Deployment{
		ID: 7, Service: "web", Kind: "deploy", From: 1, To: 2, Strategy: "rolling",
		Status: "running", Phase: "starting", CreatedAt: at, UpdatedAt: at,
	}}
}

func (s *sim) backend() *apitest.Backend {
	return &apitest.Backend{
		DeployFunc: func(_ context.Context, req api.DeployRequest) (api.Deployment, error) {
			return s.current(), nil
		},
		RollbackFunc: func(context.Context, string, api.RollbackRequest) (api.Deployment, error) {
			return s.current(), nil
		},
		DeploymentFunc: func(context.Context, int64) (api.Deployment, error) { return s.current(), nil },
		EventsFunc: func(_ context.Context, q api.EventQuery) ([]api.Event, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			id := q.AfterID + 1
			if q.DeploymentID != 7 || int(id) > len(s.steps) {
				return nil, nil
			}
			s.given = max(s.given, int(id))
			return []api.Event{{ID: id, Time: s.dep.CreatedAt.Add(time.Duration(id) * time.Second),
				Service: "web", DeploymentID: 7, Type: "progress", Message: s.steps[id-1]}}, nil
		},
	}
}

func (s *sim) current() api.Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dep
	if s.given >= len(s.steps) && s.status != "running" {
		d.Status, d.Phase = s.status, "done"
		if s.status != "succeeded" {
			d.Reason = "new instances never became ready"
		}
	}
	return d
}

func TestMissingDaemonConfig(t *testing.T) {
	t.Setenv("CUTOVER_ADDR", "")
	t.Setenv("CUTOVER_TOKEN", "")
	state := t.TempDir()
	r := runWith(t, cli.Commands{}, "--state", state, "status")
	if r.code != cli.ExitError || !strings.Contains(r.stderr, filepath.Join(state, "api.addr")+" does not exist") {
		t.Errorf("no address file: exit %d, stderr %q", r.code, r.stderr)
	}
	os.WriteFile(filepath.Join(state, "api.addr"), []byte("127.0.0.1:1\n"), 0o600)
	r = runWith(t, cli.Commands{}, "--state", state, "status")
	if r.code != cli.ExitError || !strings.Contains(r.stderr, "find API token") {
		t.Errorf("no token file: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestAddrAndTokenFromStateAndEnv(t *testing.T) {
	url := daemon(t, &apitest.Backend{ServicesFunc: func(context.Context) ([]api.Service, error) {
		return nil, nil
	}})
	state := t.TempDir()
	os.WriteFile(filepath.Join(state, "api.addr"), []byte(strings.TrimPrefix(url, "http://")+"\n"), 0o600)
	os.WriteFile(filepath.Join(state, "token"), []byte(token+"\n"), 0o600)
	t.Setenv("CUTOVER_ADDR", "")
	t.Setenv("CUTOVER_TOKEN", "")
	if r := runWith(t, cli.Commands{}, "--state", state, "status"); r.code != 0 {
		t.Errorf("from state files: exit %d, stderr %q", r.code, r.stderr)
	}
	t.Setenv("CUTOVER_STATE", state)
	if r := runWith(t, cli.Commands{}, "status"); r.code != 0 {
		t.Errorf("from CUTOVER_STATE: exit %d, stderr %q", r.code, r.stderr)
	}
	t.Setenv("CUTOVER_STATE", t.TempDir()) // holds neither file
	t.Setenv("CUTOVER_ADDR", url)
	t.Setenv("CUTOVER_TOKEN", token)
	if r := runWith(t, cli.Commands{}, "status"); r.code != 0 {
		t.Errorf("from env: exit %d, stderr %q", r.code, r.stderr)
	}
	t.Setenv("CUTOVER_TOKEN", "wrong")
	if r := runWith(t, cli.Commands{}, "status"); r.code != cli.ExitUnauthorized ||
		!strings.HasPrefix(r.stderr, "error: unauthorized\nthe daemon refused the token from $CUTOVER_TOKEN") {
		t.Errorf("wrong token: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestServeAndDemoWiring(t *testing.T) {
	var got cli.ServeOptions
	var demo cli.DemoOptions
	cmds := cli.Commands{
		Serve: func(_ context.Context, o cli.ServeOptions) error { got = o; return nil },
		Demo: func(_ context.Context, o cli.DemoOptions, out io.Writer) error {
			demo = o
			_, err := out.Write([]byte("demo ran\n"))
			return err
		},
	}
	state := t.TempDir()
	addrFile := filepath.Join(t.TempDir(), "addr")
	if r := runWith(t, cmds, "--state", state, "serve", "--stop-instances", "--log-level", "debug",
		"--log-format", "json", "--addr-file", addrFile); r.code != 0 {
		t.Fatalf("serve: exit %d, stderr %q", r.code, r.stderr)
	}
	want := cli.ServeOptions{StateDir: state, Listen: "127.0.0.1:7070", AddrFile: addrFile,
		StopInstancesOnExit: true, LogLevel: "debug", LogFormat: "json", HandoffTimeout: time.Minute,
		ShutdownTimeout: 10 * time.Second, StopTimeout: 2 * time.Minute}
	want.APILimits = api.Limits{ReadHeaderTimeout: api.DefaultReadHeaderTimeout, IdleTimeout: api.DefaultIdleTimeout,
		MaxHeaderBytes: api.DefaultMaxHeaderBytes, MaxBodyBytes: api.MaxBodyBytes}
	want.ProxyReadHeaderTimeout, want.ProxyIdleTimeout, want.ProxyMaxHeaderBytes = 10*time.Second, 2*time.Minute, 64<<10
	want.ACMEDirectory = "https://acme-v02.api.letsencrypt.org/directory"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("serve options %+v, want %+v", got, want)
	}
	r := runWith(t, cmds, "--state", state, "demo", "--rate", "7", "--exit")
	if r.code != 0 || r.stdout != "demo ran\n" || demo != (cli.DemoOptions{Exit: true, Rate: 7}) {
		t.Errorf("demo: exit %d, stdout %q, options %+v", r.code, r.stdout, demo)
	}
	if r := runWith(t, cmds, "--state", state, "serve", "--log-format", "xml"); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--log-format") {
		t.Errorf("serve --log-format xml: exit %d, stderr %q; want %d naming the flag", r.code, r.stderr, cli.ExitUsage)
	}
	for _, flag := range []string{"--handoff-timeout", "--shutdown-timeout", "--stop-timeout"} {
		if r := runWith(t, cmds, "--state", state, "serve", flag, "0s"); r.code != cli.ExitUsage || !strings.Contains(r.stderr, flag) {
			t.Errorf("serve %s 0s: exit %d, stderr %q; want %d naming the flag", flag, r.code, r.stderr, cli.ExitUsage)
		}
	}
	if r := runWith(t, cli.Commands{}, "--state", state, "serve"); r.code != cli.ExitError {
		t.Errorf("serve without a daemon in the build: exit %d", r.code)
	}
}

func TestSpecCheck(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.yaml"), filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("name: web\n"), 0o600)
	os.WriteFile(bad, []byte("name: web\nreplicas: 0\n"), 0o600)
	cmds := cli.Commands{CheckSpec: func(y []byte, file string) api.CheckResult {
		if strings.Contains(string(y), "replicas: 0") {
			return api.CheckResult{Errors: []api.FieldError{
				{Path: "replicas", Line: 2, Message: "must be at least 1"},
				{Path: "run.command", Message: "required"},
			}}
		}
		return api.CheckResult{Valid: true, Warnings: []string{"no readiness probe"}}
	}}
	r := runWith(t, cmds, "--state", dir, "spec", "check", good)
	if r.code != 0 || r.stdout != good+": valid\n" || r.stderr != "warning: no readiness probe\n" {
		t.Errorf("good spec: %+v", r)
	}
	r = runWith(t, cmds, "--state", dir, "spec", "check", bad)
	wantErr := "error: invalid spec " + bad + "\n  replicas (line 2): must be at least 1\n  run.command: required\n"
	if r.code != cli.ExitUsage || r.stderr != wantErr {
		t.Errorf("bad spec: exit %d, stderr %q, want %q", r.code, r.stderr, wantErr)
	}
	r = runWith(t, cmds, "--state", dir, "-o", "json", "spec", "check", bad)
	if r.code != cli.ExitUsage || !strings.Contains(r.stdout, `"valid": false`) || r.stderr != "" {
		t.Errorf("bad spec, json: %+v", r)
	}
}
