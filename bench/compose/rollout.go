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
    image: %s
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

// rollout is one tool's update from v1 to v2 under load.
type rollout struct {
	tool string
	sum  loadgen.Summary
	took time.Duration // from the update command's start until v2 answered
}

// rollouts runs the update with docker-compose, then with cutover.
func rollouts(ctx context.Context, logger *slog.Logger, e *env, rate int) ([]rollout, error) {
	file := filepath.Join(e.dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(composeFile, e.image)), 0o644); err != nil {
		return nil, err
	}
	project := fmt.Sprintf("cutoverbench%d", os.Getpid())
	dc := func(ctx context.Context, port, version string) error {
		cmd := exec.CommandContext(ctx, "docker-compose", "-p", project, "-f", file, "up", "-d")
		cmd.Env = append(os.Environ(), "VERSION="+version, "PORT="+port)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("docker-compose up -d (VERSION=%s): %w\n%s", version, err, out)
		}
		return nil
	}
	defer func() {
		cmd := exec.Command("docker-compose", "-p", project, "-f", file, "down", "-t", "1")
		cmd.Env = append(os.Environ(), "VERSION=x", "PORT=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			logger.Warn("docker-compose down", "error", err, "output", string(out))
		}
	}()
	cut := func(ctx context.Context, port, version string) error {
		return e.cutover(ctx, []string{"VERSION=" + version, "PORT=" + port}, "deploy", "-f", file, "--wait", "--timeout", "2m")
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

// serves tells whether url answers 200 from version.
func serves(url, version string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK && resp.Header.Get("X-Version") == version
}
