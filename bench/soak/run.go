package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/cutover/cutover/bench/machine"
	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/loadgen"
)

// soak is one run's moving parts and what it records while it runs.
type soak struct {
	c        config
	d        daemon
	app      string
	services [2]service
	start    time.Time

	mu       sync.Mutex
	client   *api.Client
	down     []Window
	failures []Failure
	done     []doneFault
	samples  []Sample
	deploys  int
}

type service struct{ name, listen string }

// replicas is every service's replica count.
const replicas = 2

// doneFault is a fault as carried out: when, and what came of it.
type doneFault struct {
	Fault
	Took    time.Duration
	Outcome string
}

func run(ctx context.Context, c config) ([]string, error) {
	dir, err := os.MkdirTemp("", "cutover-bench-soak-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin, app := filepath.Join(dir, "cutover"), filepath.Join(dir, "demoapp")
	for out, pkg := range map[string]string{bin: "./cmd/cutover", app: "./examples/demoapp"} {
		if b, err := exec.CommandContext(ctx, "go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %w\n%s", pkg, err, b)
		}
	}
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		return nil, err
	}
	if !c.noDisk {
		opts := "size=" + strconv.Itoa(c.diskMB<<20) + ",mode=0700"
		if err := syscall.Mount("tmpfs", state, "tmpfs", 0, opts); err != nil {
			return nil, fmt.Errorf("mount tmpfs on %s: %w", state, err)
		}
		defer syscall.Unmount(state, syscall.MNT_DETACH)
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	s := &soak{c: c, d: daemon{bin: bin, state: state, log: logf}, app: app}
	defer s.cleanup()
	if s.client, err = s.d.start(ctx); err != nil {
		return nil, err
	}
	for i, name := range []string{"alpha", "beta"} {
		if s.services[i], err = s.firstDeploy(ctx, name); err != nil {
			return nil, err
		}
	}
	loadStart := machine.LoadAvg()
	faults := Schedule(c.seed, c.plan())
	fmt.Printf("soak: %d faults over %s, %d req/s to each service, load average %s\n", len(faults), c.duration, c.rate, loadStart)
	sums := s.soak(ctx, faults)
	f := s.settleAndCheck(ctx)
	loadEnd := machine.LoadAvg()
	report := s.report(sums, f, loadStart, loadEnd)
	fmt.Print(report)
	if c.log != "" {
		if b, err := os.ReadFile(logf.Name()); err == nil {
			_ = os.MkdirAll(filepath.Dir(c.log), 0o755)
			_ = os.WriteFile(c.log, b, 0o644)
		}
	}
	if err := os.MkdirAll(filepath.Dir(c.out), 0o755); err != nil {
		return nil, err
	}
	return f.Broken(), os.WriteFile(c.out, []byte(report), 0o644)
}

// soak sends the load to both services while it carries out the faults and samples the
// daemon, and returns the load's summaries.
func (s *soak) soak(ctx context.Context, faults []Fault) [2]loadgen.Summary {
	s.start = time.Now()
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var sums [2]loadgen.Summary
	var wg sync.WaitGroup
	for i, svc := range s.services {
		wg.Go(func() {
			cfg := loadgen.Config{URL: "http://" + svc.listen + "/", Rate: s.c.rate, Duration: s.c.duration, Workers: 512}
			sums[i], _ = loadgen.Run(lctx, cfg, s.onResult)
		})
	}
	wg.Go(func() {
		// The first samples wait for the warm-up: the load's connections open meanwhile.
		if machine.Sleep(lctx, s.c.plan().Warmup) == nil {
			s.sampleEvery(lctx, s.c.sample)
		}
	})
	s.inject(ctx, faults)
	wg.Wait()
	return sums
}

// routePorts are the ports of the services' routes.
func (s *soak) routePorts() map[int]bool {
	out := map[int]bool{}
	for _, svc := range s.services {
		if _, port, err := net.SplitHostPort(svc.listen); err == nil {
			p, _ := strconv.Atoi(port)
			out[p] = true
		}
	}
	return out
}

func (s *soak) onResult(r loadgen.Result) {
	if !r.Failed {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, Failure{Cause: r.Kind, Start: r.Scheduled, End: time.Now()})
}

// sampleEvery reads the serving daemon's RSS and open files every period until the load ends.
func (s *soak) sampleEvery(ctx context.Context, period time.Duration) {
	for {
		if pid, err := s.d.pid(); err == nil {
			rss, fds, err1 := readDaemon(pid)
			kinds, err2 := fdKinds(pid, s.routePorts())
			if err1 == nil && err2 == nil {
				s.mu.Lock()
				s.samples = append(s.samples, Sample{At: time.Since(s.start), PID: pid, RSS: rss, FDs: fds, Kinds: kinds, Own: ownFDs(kinds)})
				s.mu.Unlock()
			}
		}
		if machine.Sleep(ctx, period) != nil || time.Since(s.start) >= s.c.duration {
			return
		}
	}
}

// firstDeploy deploys revision 1 of a service (rolling) and waits until it succeeded.
func (s *soak) firstDeploy(ctx context.Context, name string) (service, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return service{}, err
	}
	svc := service{name: name, listen: ln.Addr().String()}
	ln.Close()
	dep, err := s.client.Deploy(ctx, api.DeployRequest{Service: name, Spec: s.spec(svc, DeployRolling)})
	if err != nil {
		return svc, fmt.Errorf("deploy %s: %w", name, err)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		d, err := s.client.Deployment(ctx, dep.ID)
		if err == nil && d.Final() {
			if d.Status != "succeeded" {
				return svc, fmt.Errorf("deploy %s: %s (%s)", name, d.Status, d.Reason)
			}
			return svc, nil
		}
	}
	return svc, fmt.Errorf("deploy %s: not done within a minute", name)
}

// spec is a service's spec with the strategy of kind and a new VERSION each time.
func (s *soak) spec(svc service, kind Kind) string {
	s.deploys++
	strategy := map[Kind]string{
		DeployRolling:   "  rolling: {max_surge: 1, max_unavailable: 0}\n",
		DeployBlueGreen: "  blue_green: {scale_down_delay: 2s}\n",
		DeployCanary:    "  canary:\n    steps:\n      - weight: 25\n      - pause: 3s\n      - weight: 50\n      - pause: 3s\n      - weight: 100\n",
	}[kind]
	return fmt.Sprintf(`name: %s
replicas: %d
run:
  command: %s
  env: {VERSION: v%d}
probes:
  readiness: {http: {path: /healthz}, period: 100ms}
route: {listen: %q}
strategy:
%sstop_grace: 5s
`, svc.name, replicas, s.app, s.deploys, svc.listen, strategy)
}

// cleanup stops the daemon and ends every demo app process it left (they outlive it).
func (s *soak) cleanup() {
	s.d.stop()
	for _, pid := range appPIDs(s.app) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
