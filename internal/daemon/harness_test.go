package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/testbin"
)

// harness is a real daemon (process runtime, real proxy, SQLite) for one test.
type harness struct {
	t      *testing.T
	d      *Daemon
	client *api.Client
	stop   func()
	app    string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return startWith(t, Options{})
}

// newHarnessLogging is newHarness with the daemon's log written, at debug level, to logOut.
func newHarnessLogging(t *testing.T, logOut io.Writer) *harness {
	t.Helper()
	return startWith(t, Options{Logger: debugLogger(logOut)})
}

// debugLogger logs at debug level to w.
func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startWith runs a daemon with opts on 127.0.0.1:0 that stops its instances on exit; an
// empty StateDir is a new temporary one, a nil Logger logs to stderr when CUTOVER_TEST_LOG
// is set. Its stop may be called more than once.
func startWith(t *testing.T, opts Options) *harness {
	t.Helper()
	opts.Listen, opts.StopInstancesOnExit, opts.Tick = "127.0.0.1:0", true, 50*time.Millisecond
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	if opts.Logger == nil {
		logOut := io.Discard
		if os.Getenv("CUTOVER_TEST_LOG") != "" {
			logOut = os.Stderr
		}
		opts.Logger = debugLogger(logOut)
	}
	d, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("new daemon: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	h := &harness{t: t, d: d, client: api.NewClient("http://"+d.Addr(), d.Token()), app: testbin.Demoapp(t)}
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("daemon run: %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Errorf("daemon did not stop within 60s")
			}
		})
	}
	t.Cleanup(h.stop)
	waitFor(t, 5*time.Second, "api healthy", func() bool { return h.client.Health(context.Background()) == nil })
	return h
}

// appSpec is a spec running the demo app; extra is YAML appended at the top level, env
// entries are added to run.env.
type appSpec struct {
	Name     string
	Listen   string
	Version  string
	Replicas int
	Env      map[string]string
	Strategy string // YAML of the strategy block, without the "strategy:" key
	Probes   string // YAML of the whole probes block; default: readiness GET /healthz every 100ms
	Route    string // YAML lines under route:, after listen and drain_timeout
	Extra    string
}

func (h *harness) yaml(s appSpec) string {
	if s.Replicas == 0 {
		s.Replicas = 2
	}
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nreplicas: %d\nstop_grace: 5s\n", s.Name, s.Replicas)
	fmt.Fprintf(&b, "run:\n  command: %s\n  env:\n    VERSION: %q\n", h.app, s.Version)
	for k, v := range s.Env {
		fmt.Fprintf(&b, "    %s: %q\n", k, v)
	}
	if s.Probes == "" {
		s.Probes = "probes:\n  readiness:\n    http: {path: /healthz}\n    period: 100ms\n    failure_threshold: 2\n"
	}
	b.WriteString(s.Probes)
	fmt.Fprintf(&b, "route:\n  listen: %s\n  drain_timeout: 5s\n", s.Listen)
	if s.Route != "" {
		b.WriteString(indent(s.Route, "  "))
	}
	if s.Strategy != "" {
		b.WriteString("strategy:\n" + indent(s.Strategy, "  "))
	}
	b.WriteString(s.Extra)
	return b.String()
}

func indent(s, pre string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(pre + l + "\n")
	}
	return b.String()
}

func (h *harness) deploy(s appSpec) api.Deployment {
	h.t.Helper()
	dep, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: s.Name, Spec: h.yaml(s), Who: "test"})
	if err != nil {
		h.t.Fatalf("deploy %s %s: %v", s.Name, s.Version, err)
	}
	return dep
}

// wait blocks until the deployment is final and returns it.
func (h *harness) wait(id int64, limit time.Duration) api.Deployment {
	h.t.Helper()
	var dep api.Deployment
	waitFor(h.t, limit, fmt.Sprintf("deployment %d final", id), func() bool {
		var err error
		dep, err = h.client.Deployment(context.Background(), id)
		return err == nil && dep.Final()
	})
	return dep
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func isErr(err, target error) bool { return errors.Is(err, target) }
