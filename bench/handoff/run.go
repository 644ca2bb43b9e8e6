package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cutover/cutover/bench/machine"
	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/handoff"
	"github.com/cutover/cutover/internal/loadgen"
)

// result is one hand-off's timing.
type result struct {
	ready, exit time.Duration // signal → successor serves; signal → old process gone
}

func run(ctx context.Context, c config) error {
	dir, err := os.MkdirTemp("", "cutover-bench-handoff-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, app := filepath.Join(dir, "cutover"), filepath.Join(dir, "demoapp")
	for out, pkg := range map[string]string{bin: "./cmd/cutover", app: "./examples/demoapp"} {
		if b, err := exec.CommandContext(ctx, "go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %w\n%s", pkg, err, b)
		}
	}
	state := filepath.Join(dir, "state")
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	if c.verbose {
		defer func() { b, _ := os.ReadFile(logf.Name()); fmt.Printf("%s", b) }()
	}
	serve := exec.Command(bin, "serve", "--state", state, "--listen", "127.0.0.1:0", "--stop-instances")
	serve.Stdout, serve.Stderr = logf, logf
	if err := serve.Start(); err != nil {
		return err
	}
	go func() { _ = serve.Wait() }() // reap the first daemon once it hands off
	defer stopServing(state)
	client, err := connect(ctx, state)
	if err != nil {
		return err
	}
	route, err := deploy(ctx, client, app, c.latency)
	if err != nil {
		return err
	}
	loadStart := machine.LoadAvg()
	total := time.Duration(c.handoffs+1) * c.gap
	var wg sync.WaitGroup
	var keep, conn loadgen.Summary
	slow := func(r loadgen.Result) {
		if c.verbose && r.Latency > 300*time.Millisecond {
			fmt.Printf("slow request scheduled %s: %s %v\n", r.Scheduled.Format("15:04:05.000"), r.Latency.Round(time.Millisecond), r.Err)
		}
	}
	wg.Go(func() {
		keep, _ = loadgen.Run(ctx, loadgen.Config{URL: route, Rate: c.rate * 3 / 4, Duration: total, Workers: 512}, slow)
	})
	wg.Go(func() {
		conn, _ = loadgen.Run(ctx, loadgen.Config{URL: route, Rate: c.rate / 4, Duration: total, Workers: 512,
			Header: http.Header{"Connection": {"close"}}}, slow)
	})
	var results []result
	for range c.handoffs {
		if machine.Sleep(ctx, c.gap) != nil {
			break
		}
		if c.verbose {
			fmt.Printf("hand-off at %s\n", time.Now().Format("15:04:05.000"))
		}
		r, err := handOff(ctx, state)
		if err != nil {
			wg.Wait()
			return err
		}
		results = append(results, r)
	}
	wg.Wait()
	report := format(c, results, keep, conn, loadStart, machine.LoadAvg())
	fmt.Print(report)
	if err := os.MkdirAll(filepath.Dir(c.out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(c.out, []byte(report), 0o644)
}

// handOff signals the serving daemon and times the successor's readiness and the old
// process's exit.
func handOff(ctx context.Context, state string) (result, error) {
	pid, err := handoff.ReadPIDFile(state)
	if err != nil {
		return result{}, err
	}
	before, _, _ := handoff.ReadStatus(state)
	t0 := time.Now()
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return result{}, fmt.Errorf("signal %d: %w", pid, err)
	}
	var r result
	for ctx.Err() == nil {
		st, ok, _ := handoff.ReadStatus(state)
		if ok && st.OldPID == pid && !st.At.Equal(before.At) {
			if !st.OK {
				return r, fmt.Errorf("hand-off failed: %s", st.Error)
			}
			r.ready = time.Since(t0)
			break
		}
		time.Sleep(time.Millisecond)
	}
	for ctx.Err() == nil && syscall.Kill(pid, 0) == nil && !zombie(pid) {
		time.Sleep(time.Millisecond)
	}
	r.exit = time.Since(t0)
	return r, ctx.Err()
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err != nil || strings.Contains(string(b), ") Z ")
}

func connect(ctx context.Context, state string) (*api.Client, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		addr, err1 := os.ReadFile(filepath.Join(state, "api.addr"))
		token, err2 := os.ReadFile(filepath.Join(state, "token"))
		if err1 == nil && err2 == nil {
			url := strings.TrimSpace(string(addr))
			if !strings.Contains(url, "://") {
				url = "http://" + url
			}
			c := api.NewClient(url, strings.TrimSpace(string(token)))
			if c.Health(ctx) == nil {
				return c, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, errors.New("daemon did not start within 30s")
}

func deploy(ctx context.Context, c *api.Client, app string, latency time.Duration) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	listen := ln.Addr().String()
	ln.Close()
	spec := fmt.Sprintf(`name: web
replicas: 2
run:
  command: %s
  env: {VERSION: v1, LATENCY: %q}
probes:
  readiness: {http: {path: /healthz}, period: 100ms}
route: {listen: %q}
`, app, latency.String(), listen)
	dep, err := c.Deploy(ctx, api.DeployRequest{Service: "web", Spec: spec})
	if err != nil {
		return "", err
	}
	for ctx.Err() == nil {
		d, err := c.Deployment(ctx, dep.ID)
		if err == nil && d.Final() {
			if d.Status != "succeeded" {
				return "", fmt.Errorf("deploy: %s (%s)", d.Status, d.Reason)
			}
			return "http://" + listen + "/", nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", ctx.Err()
}

// stopServing stops the serving daemon with SIGTERM (it stops the instances) and waits.
func stopServing(state string) {
	pid, err := handoff.ReadPIDFile(state)
	if err != nil {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 3000 && syscall.Kill(pid, 0) == nil && !zombie(pid); i++ {
		time.Sleep(10 * time.Millisecond)
	}
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
