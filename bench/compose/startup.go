package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/api"
)

// probePeriod is both sides' readiness polling: the bench's loop after `docker run` and
// cutover's readiness probe period.
const probePeriod = 50 * time.Millisecond

// startup holds the start-to-ready times of both sides, one per run.
type startup struct {
	docker, cutover []time.Duration
}

// startups measures runs times each side, interleaved, on fresh ports and services.
func startups(ctx context.Context, logger *slog.Logger, e *env, runs int) (startup, error) {
	var s startup
	for i := range runs {
		d, err := dockerRun(ctx, e.image)
		if err != nil {
			return s, err
		}
		c, err := cutoverRun(ctx, e, i)
		if err != nil {
			return s, err
		}
		logger.Info("startup", "run", i+1, "docker_run", d, "cutover", c)
		s.docker, s.cutover = append(s.docker, d), append(s.cutover, c)
	}
	return s, nil
}

// dockerRun times `docker run -d` of the image until its /healthz answers 200, then
// removes the container.
func dockerRun(ctx context.Context, image string) (time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	out, err := exec.CommandContext(ctx, "docker", "run", "-d", "--label", benchLabel+"=1", "-e", "PORT=8080",
		"-p", "127.0.0.1:"+port+":8080", image).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("docker run: %w\n%s", err, out)
	}
	id := strings.TrimSpace(string(out))
	defer exec.Command("docker", "rm", "-f", id).Run()
	err = pollEvery(ctx, time.Minute, "docker run /healthz", func() bool { return healthy("http://127.0.0.1:" + port + "/healthz") })
	return time.Since(start), err
}

// cutoverRun times a first deployment of a new one-replica service until it succeeded.
func cutoverRun(ctx context.Context, e *env, i int) (time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	name := fmt.Sprintf("start%d", i+1)
	doc := fmt.Sprintf("name: %s\nreplicas: 1\nstop_grace: 2s\nrun:\n  image: %s\n  env:\n    VERSION: v1\n"+
		"  container:\n    port: 8080\nprobes:\n  readiness:\n    http: {path: /healthz}\n    period: %s\n"+
		"route:\n  listen: 127.0.0.1:%s\n", name, e.image, probePeriod, port)
	start := time.Now()
	dep, err := e.api.Deploy(ctx, api.DeployRequest{Service: name, Spec: doc, Who: "bench"})
	if err != nil {
		return 0, fmt.Errorf("deploy %s: %w", name, err)
	}
	var got api.Deployment
	err = poll(ctx, time.Minute, "deployment "+name, func() bool {
		got, err = e.api.Deployment(ctx, dep.ID)
		return err == nil && got.Final()
	})
	took := time.Since(start)
	if err == nil && got.Status != "succeeded" {
		err = fmt.Errorf("deploy %s: %s (%s)", name, got.Status, got.Reason)
	}
	return took, err
}

// pollEvery calls cond every probePeriod until it holds, limit passes or ctx ends.
func pollEvery(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", what, ctx.Err())
		case <-time.After(probePeriod):
		}
	}
	return nil
}

func healthy(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
