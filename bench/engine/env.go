package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/bench/machine"
	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/daemon"
)

// buildDemoapp builds examples/demoapp into dir and returns the binary's path.
func buildDemoapp(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "demoapp")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./examples/demoapp")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build demoapp: %w\n%s", err, b)
	}
	return out, nil
}

// moduleRoot is the directory of the go.mod that `go` sees from here.
func moduleRoot(ctx context.Context) (string, error) {
	b, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	gomod := strings.TrimSpace(string(b))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("find module root: run the bench from inside the cutover module")
	}
	return filepath.Dir(gomod), nil
}

// engine is one in-process daemon with a client, for one bench.
type engine struct {
	d      *daemon.Daemon
	client *api.Client
	app    string
	stop   func() error
}

// startEngine starts a daemon on a loopback port with its state under dir.
func startEngine(ctx context.Context, dir, app string, logger *slog.Logger) (*engine, error) {
	d, err := daemon.New(ctx, daemon.Options{StateDir: dir, Listen: "127.0.0.1:0", StopInstancesOnExit: true,
		Logger: logger, Tick: 50 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("start daemon: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	e := &engine{d: d, client: api.NewClient("http://"+d.Addr(), d.Token()), app: app}
	e.stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			return errors.New("daemon did not stop within 60s")
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.client.Health(ctx) != nil {
		if time.Now().After(deadline) {
			_ = e.stop()
			return nil, errors.New("daemon api not healthy within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return e, nil
}

// svc describes one revision of a demo app service.
type svc struct {
	Name, Listen, Version string
	Replicas              int
	Env                   map[string]string
	Period                time.Duration // readiness probe period
	Strategy              string        // YAML flow mapping, e.g. "rolling: {max_surge: 1}"
}

// yaml renders the spec file.
func (e *engine) yaml(s svc) string {
	env := map[string]string{"VERSION": s.Version}
	for k, v := range s.Env {
		env[k] = v
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, 0, len(keys))
	for _, k := range keys {
		pairs = append(pairs, fmt.Sprintf("%s: %q", k, env[k]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nreplicas: %d\nstop_grace: 5s\n", s.Name, s.Replicas)
	fmt.Fprintf(&b, "run:\n  command: %q\n  env: {%s}\n", e.app, strings.Join(pairs, ", "))
	fmt.Fprintf(&b, "probes:\n  readiness: {http: {path: /healthz}, period: %s}\n", s.Period)
	fmt.Fprintf(&b, "route: {listen: %q, drain_timeout: 5s}\n", s.Listen)
	fmt.Fprintf(&b, "strategy:\n  %s\n", s.Strategy)
	return b.String()
}

// deploy deploys s and waits (polling every 10ms, at most limit) until the deployment is
// final. It returns the final deployment and the client-side time from request to final.
func (e *engine) deploy(ctx context.Context, s svc, limit time.Duration) (api.Deployment, time.Duration, error) {
	start := time.Now()
	dep, err := e.client.Deploy(ctx, api.DeployRequest{Service: s.Name, Spec: e.yaml(s), Who: "bench"})
	if err != nil {
		return api.Deployment{}, 0, fmt.Errorf("deploy %s %s: %w", s.Name, s.Version, err)
	}
	final, err := e.waitFinal(ctx, dep.ID, limit)
	if err != nil {
		return final, 0, err
	}
	elapsed := time.Since(start)
	if final.Status != "succeeded" {
		return final, elapsed, fmt.Errorf("deployment %d of %s %s: %s %s", dep.ID, s.Name, s.Version, final.Status, final.Reason)
	}
	return final, elapsed, nil
}

// waitFinal polls the deployment every 10ms until it is final, for at most limit.
func (e *engine) waitFinal(ctx context.Context, id int64, limit time.Duration) (api.Deployment, error) {
	deadline := time.Now().Add(limit)
	for {
		cur, err := e.client.Deployment(ctx, id)
		if err == nil && cur.Final() {
			return cur, nil
		}
		if time.Now().After(deadline) {
			return cur, fmt.Errorf("deployment %d not final after %s (last error %v)", id, limit, err)
		}
		if err := machine.Sleep(ctx, 10*time.Millisecond); err != nil {
			return cur, err
		}
	}
}

// freeAddr returns a loopback address whose port is free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a loopback port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
