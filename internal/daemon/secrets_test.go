package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/cli"
	"github.com/cutover/cutover/internal/spec"
)

// syncBuffer is a bytes.Buffer safe for the daemon's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSecretsNeverShown deploys a service whose env holds secrets, then a deploy that fails
// and is rolled back, then a rollback, then a deploy failed by a hook that prints a secret of
// its own env, and searches every output channel for the secret values: the API's JSON on
// every GET route, the CLI's text and JSON output (status, history, events, logs), events,
// deployment reasons and the daemon's own log. None may appear.
func TestSecretsNeverShown(t *testing.T) {
	var logs syncBuffer
	h := newHarnessLogging(t, &logs)
	listen := freeAddr(t)
	secrets := map[string]string{
		"API_TOKEN":    "tok-9f8e7d6c5b4a",
		"DB_PASSWORD":  "pw-correct-horse-battery",
		"DATABASE_URL": "postgres://app:dsn-s3cr3t-pass@db.internal:5432/app",
		"UPSTREAM_PIN": "pin-listed-under-run-secrets",
	}
	// The app prints every value at start: `cutover logs` must hide the secret ones.
	env := map[string]string{"PLAIN_SETTING": "visible-value",
		"PRINT_ENV": "PLAIN_SETTING,API_TOKEN,DB_PASSWORD,DATABASE_URL,UPSTREAM_PIN"}
	for k, v := range secrets {
		env[k] = v
	}
	// run.secrets is spliced in by deploySecret: the harness's Extra is top-level YAML only.
	s := appSpec{Name: "web", Listen: listen, Version: "v1", Env: env,
		Strategy: "rolling: {progress_deadline: 1s}\n"}
	deploySecret := func(s appSpec) api.Deployment {
		t.Helper()
		y := strings.Replace(h.yaml(s), "  env:\n", "  secrets: [UPSTREAM_PIN]\n  env:\n", 1)
		dep, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: s.Name, Spec: y, Who: "test"})
		if err != nil {
			t.Fatalf("deploy %s: %v", s.Version, err)
		}
		return dep
	}

	first := deploySecret(s)
	if got := h.wait(first.ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("first deploy: %s %s", got.Status, got.Reason)
	}
	s.Version, s.Env["NEVER_READY"] = "v2", "1"
	bad := deploySecret(s)
	if got := h.wait(bad.ID, 30*time.Second); got.Status == "succeeded" {
		t.Fatalf("never-ready deploy succeeded")
	}
	delete(s.Env, "NEVER_READY")
	s.Version = "v3"
	third := deploySecret(s)
	if got := h.wait(third.ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("third deploy: %s %s", got.Status, got.Reason)
	}
	// To the first revision: the previous one (2) never became ready.
	rb, err := h.client.Rollback(context.Background(), "web", api.RollbackRequest{To: 1})
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if got := h.wait(rb.ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("rollback: %s %s", got.Status, got.Reason)
	}
	// A hook that prints its own secret and the app's: its output becomes the reason.
	secrets["HOOK_TOKEN"] = "hook-tok-5e6f7a8b9c"
	s.Version = "v4"
	s.Extra = "hooks:\n  pre_deploy:\n    command: sh\n    args: [-c, 'echo sees $HOOK_TOKEN and " +
		secrets["DB_PASSWORD"] + "; exit 3']\n    env: {HOOK_TOKEN: " + secrets["HOOK_TOKEN"] + "}\n    timeout: 5s\n"
	hooked := deploySecret(s)
	got := h.wait(hooked.ID, 30*time.Second)
	if got.Status != "failed" || !strings.Contains(got.Reason, "sees "+spec.Redaction+" and "+spec.Redaction) {
		t.Fatalf("hook-failed deploy: %s %q, want failed with the hook's output, redacted", got.Status, got.Reason)
	}

	outputs := apiOutputs(t, h, []int64{first.ID, bad.ID, third.ID, rb.ID, hooked.ID})
	for name, out := range cliOutputs(t, h) {
		outputs[name] = out
	}
	outputs["daemon log"] = logs.String()

	if !strings.Contains(outputs["GET /v1/services/web/history"], "visible-value") {
		t.Errorf("history does not show the plain env value: the search would find nothing anyway")
	}
	if n := strings.Count(outputs["GET /v1/services/web/history"], spec.Redaction); n < 4*3 {
		t.Errorf("history shows %d redacted values, want 4 per revision (3 revisions)", n)
	}
	if out := outputs["cutover -o text logs web"]; !strings.Contains(out, "env PLAIN_SETTING=visible-value") ||
		!strings.Contains(out, "env API_TOKEN="+spec.Redaction) {
		t.Errorf("logs do not show the app's printed env, plain and redacted:\n%s", out)
	}
	if !strings.Contains(outputs["daemon log"], "web") {
		t.Errorf("the daemon log is empty of the service: nothing was captured")
	}
	for name, out := range outputs {
		for k, v := range secrets {
			if strings.Contains(out, v) {
				t.Errorf("%s shows the value of %s", name, k)
			}
		}
		// The password alone, outside its URL.
		if strings.Contains(out, "dsn-s3cr3t-pass") && !strings.Contains(out, secrets["DATABASE_URL"]) {
			t.Errorf("%s shows DATABASE_URL's password", name)
		}
	}
}

// apiOutputs returns the JSON of every GET route of the API, keyed by route.
func apiOutputs(t *testing.T, h *harness, deps []int64) map[string]string {
	t.Helper()
	paths := []string{"/v1/services", "/v1/services/web", "/v1/services/web/history",
		"/v1/services/web/deployments", "/v1/events", "/v1/events?service=web", "/v1/flags", "/v1/flag-history"}
	for _, id := range deps {
		paths = append(paths, fmt.Sprintf("/v1/deployments/%d", id))
	}
	out := make(map[string]string)
	for _, p := range paths {
		req, err := http.NewRequest(http.MethodGet, "http://"+h.d.Addr()+p, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+h.d.Token())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d, error %v: %s", p, resp.StatusCode, err, b)
		}
		out["GET "+p] = string(b)
	}
	return out
}

// cliOutputs runs the CLI's read commands in-process against the daemon, in text and JSON,
// and returns their stdout and stderr keyed by command line.
func cliOutputs(t *testing.T, h *harness) map[string]string {
	t.Helper()
	cmds := [][]string{{"status"}, {"status", "web"}, {"history", "web"}, {"events"}, {"events", "web"}, {"logs", "web"}}
	out := make(map[string]string)
	for _, c := range cmds {
		for _, format := range []string{"text", "json"} {
			args := append([]string{"--state", t.TempDir(), "--addr", "http://" + h.d.Addr(), "--token", h.d.Token(), "-o", format}, c...)
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			code := cli.Main(ctx, args, strings.NewReader(""), &stdout, &stderr, cli.Commands{})
			cancel()
			if code != 0 {
				t.Errorf("cutover %s (-o %s): exit %d: %s", strings.Join(c, " "), format, code, stderr.String())
			}
			if stdout.Len() == 0 {
				t.Errorf("cutover %s (-o %s) printed nothing", strings.Join(c, " "), format)
			}
			out["cutover -o "+format+" "+strings.Join(c, " ")] = stdout.String() + stderr.String()
		}
	}
	return out
}

// TestExecProbeOutputRedacted deploys a service whose exec readiness probe prints a secret of
// the service's env and fails until a file exists. While it fails, its output is the
// instance's message: status (text and JSON), GET /v1/services/web and the daemon's log must
// show it with the secret value hidden.
func TestExecProbeOutputRedacted(t *testing.T) {
	var logs syncBuffer
	h := newHarnessLogging(t, &logs)
	const token = "tok-probe-4c3b2a1f0e"
	readyFile := filepath.Join(t.TempDir(), "ready")
	s := appSpec{Name: "web", Listen: freeAddr(t), Version: "v1", Replicas: 1,
		Env: map[string]string{"API_TOKEN": token},
		Probes: "probes:\n  readiness:\n    exec: {command: [sh, -c, 'echo probe sees $API_TOKEN; test -f " + readyFile + "']}\n" +
			"    period: 100ms\n    failure_threshold: 1\n"}
	dep, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: s.Name, Spec: h.yaml(s), Who: "test"})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	var outputs map[string]string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		outputs = apiOutputs(t, h, []int64{dep.ID})
		if strings.Contains(outputs["GET /v1/services/web"], "probe sees") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the probe's output never became the instance's message: %s", outputs["GET /v1/services/web"])
		}
	}
	for name, out := range cliOutputs(t, h) {
		outputs[name] = out
	}
	if err := os.WriteFile(readyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := h.wait(dep.ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("deploy: %s %s", got.Status, got.Reason)
	}
	outputs["daemon log"] = logs.String()
	for _, name := range []string{"GET /v1/services/web", "cutover -o text status web", "cutover -o json status web", "daemon log"} {
		if !strings.Contains(outputs[name], "probe sees "+spec.Redaction) {
			t.Errorf("%s does not show the probe's output, redacted:\n%s", name, outputs[name])
		}
	}
	for name, out := range outputs {
		if strings.Contains(out, token) {
			t.Errorf("%s shows the value of API_TOKEN", name)
		}
	}
}
