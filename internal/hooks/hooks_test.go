package hooks

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/procgroup/proctest"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
)

// The fakes isolate the runner from the daemon; the hooks themselves are real commands.
type targets map[int]string

func (t targets) TargetURL(service string, rev int) string { return t[rev] }

type replacer struct{ secret string }

func (r replacer) Redact(_ spec.Service, text string) string {
	return strings.ReplaceAll(text, r.secret, spec.Redaction)
}

type api struct{ url, token string }

func (a api) URL() string                          { return a.url }
func (a api) Token(string) (string, func(), error) { return a.token, func() {}, nil }

func newRunner(cfg Config) *Runner {
	return NewRunner(targets{7: "http://127.0.0.1:4107"}, replacer{"s3cret-value"},
		api{"http://127.0.0.1:7070", "tok-1"}, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
}

func deployment(dir string) *rollout.Deployment {
	s := spec.Service{Name: "web", Run: spec.Run{Dir: dir}}
	s.Strategy.BlueGreen = &spec.BlueGreen{PreviewListen: ":9090"}
	return &rollout.Deployment{ID: 42, Service: "web", Spec: s, State: rollout.State{To: 7}}
}

func hook(script string, timeout time.Duration) spec.Hook {
	return spec.Hook{Command: "sh", Args: []string{"-c", script}, Timeout: spec.Duration(timeout),
		Env: map[string]string{"EXTRA": "from-the-hook", "CUTOVER_HOOK": "overridden"}}
}

func TestRunHookGivesTheDeploymentsFacts(t *testing.T) {
	dir := t.TempDir()
	r := newRunner(Config{APICA: "/etc/cutover/ca.pem"})
	if err := r.RunHook(context.Background(), deployment(dir), "smoke", hook("env > env.txt", 5*time.Second)); err != nil {
		t.Fatalf("RunHook: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "env.txt"))
	if err != nil {
		t.Fatalf("the hook did not run in the run directory: %v", err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	for k, want := range map[string]string{
		"CUTOVER_SERVICE": "web", "CUTOVER_REVISION": "7", "CUTOVER_DEPLOYMENT": "42",
		"CUTOVER_ADDR": "http://127.0.0.1:7070", "CUTOVER_TOKEN": "tok-1", "CUTOVER_CA": "/etc/cutover/ca.pem",
		"TARGET_URL": "http://127.0.0.1:4107", "PREVIEW_URL": "http://127.0.0.1:9090",
		"EXTRA": "from-the-hook", "CUTOVER_HOOK": "overridden", "PATH": os.Getenv("PATH"),
	} {
		if env[k] != want {
			t.Errorf("hook env %s = %q, want %q", k, env[k], want)
		}
	}
}

func TestRunHookFailureQuotesTheRedactedTail(t *testing.T) {
	r := newRunner(Config{})
	script := `for i in 1 2 3 4 5 6 7; do echo "line $i"; done; echo "token s3cret-value" >&2; exit 3`
	err := r.RunHook(context.Background(), deployment(t.TempDir()), "pre_deploy", hook(script, 5*time.Second))
	want := "exit status 3: line 4 | line 5 | line 6 | line 7 | token [redacted]"
	if err == nil || err.Error() != want {
		t.Errorf("RunHook of a failing hook: %v, want %q", err, want)
	}
}

// A hook's output is kept up to OutputLimit: a line cut at the limit's edge could begin with
// the end of a secret, which the redactor no longer finds, so it is not quoted.
func TestRunHookQuotesNoCutLine(t *testing.T) {
	r := newRunner(Config{OutputLimit: 12})
	script := `echo "s3cret-value"; echo "done"; exit 1`
	err := r.RunHook(context.Background(), deployment(t.TempDir()), "smoke", hook(script, 5*time.Second))
	if err == nil || err.Error() != "exit status 1: done" {
		t.Errorf("RunHook: %v, want %q (the cut line \"-value\" left out)", err, "exit status 1: done")
	}
}

func TestRunHookTimeoutKillsItsChildren(t *testing.T) {
	dir := t.TempDir()
	r := newRunner(Config{WaitDelay: 200 * time.Millisecond})
	// "; true" keeps sh as the parent of sleep, which holds the output open.
	script := "sleep 30 & echo $! > pid; wait; true"
	err := r.RunHook(context.Background(), deployment(dir), "smoke", hook(script, 300*time.Millisecond))
	if err == nil || !strings.HasPrefix(err.Error(), "timed out after 300ms") {
		t.Fatalf("RunHook of a hook past its timeout: %v, want timed out after 300ms", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !proctest.Gone(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the hook's child %d still runs after its timeout", pid)
		}
	}
}
