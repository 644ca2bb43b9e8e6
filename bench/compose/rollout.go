package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/cutover/cutover/internal/loadgen"
)

// composeFile is the compose file both tools deploy: one replica of the demo image with a
// health check and a start-first update, its version and published port interpolated from
// the environment. docker-compose (v1, no swarm) ignores deploy.update_config.
const composeFile = `services:
  web:
    image: %[1]s
    environment:
      VERSION: ${VERSION}
      PORT: "8080"
    ports: ["127.0.0.1:${PORT}:8080"]
    healthcheck:
      test: ["CMD", "/healthprobe"]
      interval: 250ms
      timeout: 2s
      retries: 2
    deploy:
      replicas: 1
      update_config: {parallelism: 1, order: start-first}
`

// stackFile is a stack of four services both tools deploy: web as in composeFile, db keeping a
// named volume, a worker and a one-shot migration (x-cutover marks it a job: depends_on
// conditions are left out, which docker-compose v1 may not know). Only web's VERSION changes.
const stackFile = `services:
  web:
    image: %[1]s
    environment: {VERSION: "${VERSION}", PORT: "8080"}
    ports: ["127.0.0.1:${PORT}:8080"]
    healthcheck: {test: ["CMD", "/healthprobe"], interval: 250ms, timeout: 2s, retries: 2}
    depends_on: [db, migrate]
  db:
    image: %[1]s
    volumes: ["data:/data"]
    healthcheck: {test: ["CMD", "/healthprobe"], interval: 250ms, timeout: 2s, retries: 2}
  worker:
    image: %[1]s
    environment: {HEALTH_URL: "http://db:8080/healthz"}
    depends_on: [db]
  migrate:
    image: %[1]s
    entrypoint: ["/healthprobe"]
    environment: {HEALTH_URL: "http://db:8080/healthz"}
    restart: "no"
    depends_on: [db]
    x-cutover: {kind: job}
volumes: {data: {}}
`

// rollout is one tool's update from v1 to v2 under load.
type rollout struct {
	tool string
	sum  loadgen.Summary
	took time.Duration // from the update command's start until v2 answered
}

// rollouts runs the update of doc (a compose file with %[1]s for the image) with
// docker-compose, then with cutover, each from a directory of its own (its project's name).
func rollouts(ctx context.Context, logger *slog.Logger, e *env, rate int, doc, name string) ([]rollout, error) {
	file, err := writeCompose(e, "compose"+name, doc)
	if err != nil {
		return nil, err
	}
	cutFile, err := writeCompose(e, "cutover"+name, doc)
	if err != nil {
		return nil, err
	}
	project := fmt.Sprintf("cutoverbench%s%d", name, os.Getpid())
	dc := func(ctx context.Context, port, version string) error {
		cmd := exec.CommandContext(ctx, "docker-compose", "-p", project, "-f", file, "up", "-d")
		cmd.Env = append(os.Environ(), "VERSION="+version, "PORT="+port)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("docker-compose up -d (VERSION=%s): %w\n%s", version, err, out)
		}
		return nil
	}
	defer func() {
		cmd := exec.Command("docker-compose", "-p", project, "-f", file, "down", "-v", "-t", "1")
		cmd.Env = append(os.Environ(), "VERSION=x", "PORT=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			logger.Warn("docker-compose down", "error", err, "output", string(out))
		}
	}()
	defer func() {
		if err := e.cutover(context.Background(), []string{"VERSION=x", "PORT=1"}, "down", "-f", cutFile, "--volumes"); err != nil {
			logger.Warn("cutover down", "error", err)
		}
	}()
	cut := func(ctx context.Context, port, version string) error {
		return e.cutover(ctx, []string{"VERSION=" + version, "PORT=" + port}, "deploy", "-f", cutFile, "--wait", "--timeout", "2m")
	}
	var out []rollout
	for _, tool := range []struct {
		name string
		up   func(ctx context.Context, port, version string) error
	}{{"docker-compose up -d", dc}, {"cutover deploy -f", cut}} {
		logger.Info("rollout", "tool", tool.name)
		r, err := measureRollout(ctx, tool.name, rate, tool.up)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// measureRollout deploys v1, waits until it answers, then updates to v2 under constant load
// and keeps the load on for two seconds after v2 first answered.
func measureRollout(ctx context.Context, tool string, rate int, up func(ctx context.Context, port, version string) error) (rollout, error) {
	port, err := freePort()
	if err != nil {
		return rollout{}, err
	}
	url := "http://127.0.0.1:" + port + "/"
	if err := up(ctx, port, "v1"); err != nil {
		return rollout{}, err
	}
	if err := poll(ctx, time.Minute, tool+" v1 answering", func() bool { return serves(url, "v1") }); err != nil {
		return rollout{}, err
	}
	loadCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan loadgen.Summary, 1)
	go func() {
		sum, _ := loadgen.Run(loadCtx, loadgen.Config{URL: url, Rate: rate, Workers: 512, Timeout: 2 * time.Second,
			Duration: 3 * time.Minute}, nil)
		done <- sum
	}()
	time.Sleep(time.Second)
	start := time.Now()
	if err := up(ctx, port, "v2"); err != nil {
		return rollout{}, err
	}
	if err := poll(ctx, time.Minute, tool+" v2 answering", func() bool { return serves(url, "v2") }); err != nil {
		return rollout{}, err
	}
	took := time.Since(start)
	time.Sleep(2 * time.Second)
	stop()
	return rollout{tool: tool, sum: <-done, took: took}, nil
}

// writeCompose writes doc, with the demo image, as compose.yaml in a new directory of e.dir.
func writeCompose(e *env, dir, doc string) (string, error) {
	path := filepath.Join(e.dir, fmt.Sprintf("%s%d", dir, os.Getpid()))
	if err := os.MkdirAll(path, 0o755); err != nil {
		return "", err
	}
	file := filepath.Join(path, "compose.yaml")
	return file, os.WriteFile(file, []byte(fmt.Sprintf(doc, e.image)), 0o644)
}

// serves tells whether url answers 200 from version.
func serves(url, version string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK && resp.Header.Get("X-Version") == version
}
