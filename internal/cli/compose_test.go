package cli_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	cutover "github.com/cutover/cutover/internal/daemon"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
)

// TestDeployComposeFile deploys two compose services from the demo image on a real daemon
// and the real Docker engine: api depends on db being healthy, so db is waited for first;
// healthcheck, update_config and an unsupported key are honoured or warned about.
func TestDeployComposeFile(t *testing.T) {
	image := dockertest.DemoImage(t)
	state := t.TempDir()
	owner, _ := filepath.Abs(state)
	cli := dockertest.Client(t)
	t.Cleanup(func() { _ = dockertest.RemoveContainers(context.Background(), cli, docker.LabelOwner, owner) })
	d, err := cutover.New(context.Background(), cutover.Options{StateDir: state, Listen: "127.0.0.1:0",
		StopInstancesOnExit: true, Logger: slog.New(slog.DiscardHandler), Tick: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	dir := t.TempDir()
	apiPort, dbPort := freePort(t), freePort(t)
	file := filepath.Join(dir, "compose.yaml")
	doc := `services:
  db:
    image: ` + image + `
    environment: {VERSION: db1}
    ports: ["127.0.0.1:` + dbPort + `:8080"]
    healthcheck:
      test: ["CMD", "/healthprobe"]
      interval: 250ms
      retries: 2
    privileged: true
  api:
    image: ` + image + `
    env_file: api.env
    ports: ["127.0.0.1:` + apiPort + `:8080"]
    depends_on:
      db: {condition: service_healthy}
    healthcheck:
      test: ["CMD", "/healthprobe"]
      interval: 250ms
    deploy:
      replicas: 2
      update_config: {parallelism: 1, order: start-first}
`
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "api.env"), []byte("VERSION=api1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "http://"+d.Addr(), "--token", d.Token(), "deploy", "-f", file, "--timeout", "90s")
	if r.code != 0 {
		t.Fatalf("exit %d; stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, w := range []string{"service db: privileged (true) is not supported"} {
		if !strings.Contains(r.stderr, "warning: ") || !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks warning %q:\n%s", w, r.stderr)
		}
	}
	dbAt, apiAt := strings.Index(r.stdout, "of db"), strings.Index(r.stdout, "of api started")
	if dbAt < 0 || apiAt < 0 || !strings.Contains(r.stdout[:apiAt], "succeeded") {
		t.Errorf("db was not deployed and healthy before api started:\n%s", r.stdout)
	}
	c := api.NewClient("http://"+d.Addr(), d.Token())
	waitUntil(t, 90*time.Second, "api deployment succeeded", func() bool {
		deps, err := c.Deployments(context.Background(), "api", 1)
		return err == nil && len(deps) == 1 && deps[0].Status == "succeeded"
	})
	svc, err := c.Service(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(svc.Instances); n != 2 {
		t.Errorf("api instances: %d, want 2 (deploy.replicas)", n)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
