package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/handoff"
	"github.com/cutover/cutover/internal/loadgen"
	"github.com/cutover/cutover/internal/testbin"
)

// daemonProc is `cutover serve` run from a copy of the binary that a test may replace. Its
// log goes to a file: a successor inherits it, and a pipe would outlive the first process.
type daemonProc struct {
	t      *testing.T
	bin    string // the executable the daemon was started from
	state  string
	logf   string
	cmd    *exec.Cmd
	client *api.Client
	url    string // the API's
	token  string
}

func startDaemonProc(t *testing.T, extra ...string) *daemonProc {
	t.Helper()
	dir := t.TempDir()
	p := &daemonProc{t: t, bin: filepath.Join(dir, "cutover"), state: filepath.Join(dir, "state"), logf: filepath.Join(dir, "serve.log")}
	copyFile(t, testbin.Cutover(t), p.bin)
	logf, err := os.Create(p.logf)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	addrFile := filepath.Join(dir, "addr")
	args := append([]string{"serve", "--state", p.state, "--listen", "127.0.0.1:0", "--addr-file", addrFile,
		"--handoff-timeout", "20s"}, extra...)
	p.cmd = exec.Command(p.bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start serve: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("CUTOVER_TEST_LOG") != "" {
			t.Logf("daemon log:\n%s", p.log())
		}
	})
	t.Cleanup(p.kill)
	p.url, p.token = servedAt(t, p.state, addrFile)
	p.client = api.NewClient(p.url, p.token)
	waitFor(t, 10*time.Second, "pid file", func() bool { _, err := handoff.ReadPIDFile(p.state); return err == nil })
	return p
}

// kill stops whichever daemon serves the state (SIGTERM: it stops its instances), then the
// first process.
func (p *daemonProc) kill() {
	if pid, err := handoff.ReadPIDFile(p.state); err == nil {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		deadline := time.Now().Add(30 * time.Second)
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

func (p *daemonProc) log() string {
	b, _ := os.ReadFile(p.logf)
	return string(b)
}

// info asks GET /v1/daemon.
func (p *daemonProc) info(ctx context.Context) (DaemonInfo, error) {
	var info DaemonInfo
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/v1/daemon", nil)
	if err != nil {
		return info, err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return info, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return info, fmt.Errorf("GET /v1/daemon: %s", resp.Status)
	}
	return info, json.NewDecoder(resp.Body).Decode(&info)
}

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(stat), ") Z ")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	// Write beside, then rename: the running binary is replaced, never written in place.
	tmp := to + ".new"
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

// steadyLoad sends two loads until stop is closed: keep-alive requests and requests on a
// new connection each. It runs in rounds of 500ms, each waiting for its requests, so that
// every request sent is counted exactly as ok or failed.
type steadyLoad struct {
	mu         sync.Mutex
	keep, conn loadgen.Summary
	wg         sync.WaitGroup
	stop       chan struct{}
}

func startSteadyLoad(t *testing.T, url string) *steadyLoad {
	l := &steadyLoad{stop: make(chan struct{})}
	run := func(rate int, hdr http.Header, into *loadgen.Summary) {
		defer l.wg.Done()
		for round := 0; round < 120; round++ { // bounded: 60s at most
			select {
			case <-l.stop:
				return
			default:
			}
			s, err := loadgen.Run(context.Background(), loadgen.Config{URL: url, Rate: rate, Duration: 500 * time.Millisecond, Header: hdr, Workers: 256},
				func(r loadgen.Result) {
					if r.Failed {
						t.Logf("failed request at %s: %v", r.Scheduled.Format("15:04:05.000"), r.Err)
					}
				})
			if err != nil {
				t.Errorf("load: %v", err)
				return
			}
			l.mu.Lock()
			addSummary(into, s)
			l.mu.Unlock()
		}
	}
	l.wg.Add(2)
	go run(150, nil, &l.keep)
	go run(50, http.Header{"Connection": {"close"}}, &l.conn)
	return l
}

func (l *steadyLoad) finish() (keep, conn loadgen.Summary) {
	close(l.stop)
	l.wg.Wait()
	return l.keep, l.conn
}

func addSummary(into *loadgen.Summary, s loadgen.Summary) {
	into.Sent += s.Sent
	into.OK += s.OK
	into.Failed += s.Failed
	into.Canceled += s.Canceled
	into.GeneratorDropped += s.GeneratorDropped
	into.Max = max(into.Max, s.Max)
	for k, v := range s.Errors {
		if into.Errors == nil {
			into.Errors = map[string]int64{}
		}
		into.Errors[k] += v
	}
	for k, v := range s.ByVersion {
		if into.ByVersion == nil {
			into.ByVersion = map[string]int64{}
		}
		into.ByVersion[k] += v
	}
}

// checkLoad asserts that every request sent was answered well.
func checkLoad(t *testing.T, name string, s loadgen.Summary) {
	t.Helper()
	t.Logf("%s load: sent %d ok %d failed %d canceled %d dropped %d errors %v max latency %s", name, s.Sent, s.OK, s.Failed, s.Canceled, s.GeneratorDropped, s.Errors, s.Max)
	if s.Failed != 0 || s.Canceled != 0 || s.OK != s.Sent {
		t.Errorf("%s load: %d of %d requests failed (%v), %d canceled; want none", name, s.Failed, s.Sent, s.Errors, s.Canceled)
	}
	if s.Sent < 100 {
		t.Errorf("%s load: only %d requests sent; the load did not run", name, s.Sent)
	}
}

// deployUnderTest deploys the demo app (2 replicas, 20ms latency) and returns its route
// address and the pids of its instances.
func deployUnderTest(t *testing.T, p *daemonProc, mark string) (string, []int) {
	t.Helper()
	h := &harness{t: t, app: testbin.Demoapp(t)}
	listen := freeAddr(t)
	dep, err := p.client.Deploy(context.Background(), api.DeployRequest{Service: "web", Spec: h.yaml(appSpec{
		Name: "web", Listen: listen, Version: "v1", Replicas: 2,
		Env: map[string]string{"TEST_MARK": mark, "LATENCY": "20ms"}})})
	if err != nil {
		t.Fatal(err)
	}
	waitDeployment(t, p.client, dep.ID, "succeeded")
	pids := markedProcesses(t, mark)
	if len(pids) != 2 {
		t.Fatalf("instances: got pids %v, want 2", pids)
	}
	return listen, pids
}

// upgradeCLI runs `cutover upgrade` for p's state with the test's own binary.
func upgradeCLI(t *testing.T, p *daemonProc) (string, error) {
	t.Helper()
	out, err := exec.Command(testbin.Cutover(t), "upgrade", "--state", p.state, "--timeout", "60s").CombinedOutput()
	return string(out), err
}

// buildVersion builds cutover with the given version into dir.
func buildVersion(t *testing.T, version, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "cutover-"+version)
	cmd := exec.Command("go", "build", "-o", out, "-ldflags", "-X github.com/cutover/cutover/internal/cli.Version="+version, "./cmd/cutover")
	cmd.Dir = filepath.Join("..", "..")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", version, err, b)
	}
	return out
}

// TestRestartAndUpgradeUnderLoad hands the daemon over to a new process while two steady
// loads (keep-alive and one connection per request) go through its proxy: no request fails,
// the instances are not restarted, and the new process answers the API, with the new
// version when the binary was replaced.
func TestRestartAndUpgradeUnderLoad(t *testing.T) {
	for _, upgrade := range []bool{false, true} {
		name := map[bool]string{false: "restart", true: "upgrade"}[upgrade]
		t.Run(name, func(t *testing.T) {
			var newBin string
			if upgrade {
				newBin = buildVersion(t, "v9.9.9-test", t.TempDir())
			}
			p := startDaemonProc(t, "--stop-instances")
			ctx := context.Background()
			before, err := p.info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			mark := fmt.Sprintf("handoff-%s-%d", name, os.Getpid())
			listen, pids := deployUnderTest(t, p, mark)
			load := startSteadyLoad(t, "http://"+listen+"/")
			time.Sleep(1500 * time.Millisecond) // steady load before the hand-off
			if upgrade {
				copyFile(t, newBin, p.bin)
			}
			// A restart is done three times in a row, the last daemon handing over to the next.
			handoffs := map[bool]int{false: 3, true: 1}[upgrade]
			oldPID := before.PID
			for i := range handoffs {
				out, err := upgradeCLI(t, p)
				if err != nil || !strings.Contains(out, fmt.Sprintf("handed over: pid %d", oldPID)) {
					t.Fatalf("cutover upgrade %d: %v\n%s", i+1, err, out)
				}
				waitFor(t, 60*time.Second, fmt.Sprintf("old daemon %d to exit", oldPID), func() bool { return !alive(oldPID) })
				if i == 0 {
					if err := p.cmd.Wait(); err != nil {
						t.Errorf("first daemon's exit: %v", err)
					}
				}
				oldPID, _ = handoff.ReadPIDFile(p.state)
				time.Sleep(700 * time.Millisecond) // load on the new daemon before the next one
			}
			time.Sleep(1300 * time.Millisecond) // steady load after the last hand-off
			keep, conn := load.finish()
			checkLoad(t, "keep-alive", keep)
			checkLoad(t, "new-connection", conn)

			after, err := p.info(ctx)
			if err != nil {
				t.Fatalf("new daemon's API: %v", err)
			}
			newPID, _ := handoff.ReadPIDFile(p.state)
			if after.PID == before.PID || after.PID != newPID || !alive(newPID) {
				t.Errorf("daemon pid: before %d, after %d, pid file %d; want a new live one in the pid file", before.PID, after.PID, newPID)
			}
			wantVersion := before.Version
			if upgrade {
				wantVersion = "v9.9.9-test"
			}
			if after.Version != wantVersion || (upgrade && before.Version == wantVersion) {
				t.Errorf("version: before %q, after %q; want after %q", before.Version, after.Version, wantVersion)
			}
			if got := markedProcesses(t, mark); !slices.Equal(got, pids) {
				t.Errorf("instance pids: got %v after, want %v (not restarted)", got, pids)
			}
			svc, err := p.client.Service(ctx, "web")
			if err != nil || len(svc.Instances) != 2 {
				t.Errorf("new daemon's view of web: %v, %+v; want 2 instances", err, svc.Instances)
			}
		})
	}
}

// TestFailedHandoffKeepsServing replaces the binary with one that exits at once: the old
// daemon keeps serving through it with no failed request, reports why, and its control
// plane works again (a deployment succeeds).
func TestFailedHandoffKeepsServing(t *testing.T) {
	p := startDaemonProc(t, "--stop-instances")
	ctx := context.Background()
	mark := fmt.Sprintf("handoff-failed-%d", os.Getpid())
	listen, pids := deployUnderTest(t, p, mark)
	load := startSteadyLoad(t, "http://"+listen+"/")
	time.Sleep(1500 * time.Millisecond)
	if err := os.WriteFile(p.bin+".new", []byte("#!/bin/sh\necho broken build >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p.bin+".new", p.bin); err != nil {
		t.Fatal(err)
	}
	out, err := upgradeCLI(t, p)
	if err == nil || !strings.Contains(out, "hand-off failed") || !strings.Contains(out, "exited before it was ready") {
		t.Errorf("cutover upgrade with a broken binary: %v\n%s; want an error saying the hand-off failed", err, out)
	}
	time.Sleep(2 * time.Second)
	keep, conn := load.finish()
	checkLoad(t, "keep-alive", keep)
	checkLoad(t, "new-connection", conn)

	info, err := p.info(ctx)
	if err != nil || info.PID != p.cmd.Process.Pid {
		t.Errorf("API after the failed hand-off: %+v, %v; want the old daemon %d", info, err, p.cmd.Process.Pid)
	}
	if pid, _ := handoff.ReadPIDFile(p.state); pid != p.cmd.Process.Pid {
		t.Errorf("pid file: %d, want the old daemon's %d", pid, p.cmd.Process.Pid)
	}
	if log := p.log(); !strings.Contains(log, "hand-off failed") || !strings.Contains(log, "broken build") {
		t.Errorf("log does not say the hand-off failed and why:\n%s", log)
	}
	if got := markedProcesses(t, mark); !slices.Equal(got, pids) {
		t.Errorf("instance pids: got %v, want %v (not restarted)", got, pids)
	}
	// The control plane runs again: a deployment goes through.
	h := &harness{t: t, app: testbin.Demoapp(t)}
	dep, err := p.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: h.yaml(appSpec{
		Name: "web", Listen: listen, Version: "v2", Replicas: 2, Env: map[string]string{"TEST_MARK": mark}})})
	if err != nil {
		t.Fatalf("deploy after the failed hand-off: %v", err)
	}
	waitDeployment(t, p.client, dep.ID, "succeeded")
	assertServes(t, listen, "v2")
}

// TestSIGTERMFinishesInFlightRequests: a request that is in flight when the daemon gets
// SIGTERM is answered in full before the daemon exits.
func TestSIGTERMFinishesInFlightRequests(t *testing.T) {
	p := startDaemonProc(t) // instances keep running: the proxy's drain alone finishes the request
	h := &harness{t: t, app: testbin.Demoapp(t)}
	listen := freeAddr(t)
	mark := fmt.Sprintf("sigterm-%d", os.Getpid())
	t.Cleanup(func() {
		for _, pid := range markedProcesses(t, mark) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	dep, err := p.client.Deploy(context.Background(), api.DeployRequest{Service: "web", Spec: h.yaml(appSpec{
		Name: "web", Listen: listen, Version: "v1", Replicas: 1, Env: map[string]string{"TEST_MARK": mark, "LATENCY": "1500ms"}})})
	if err != nil {
		t.Fatal(err)
	}
	waitDeployment(t, p.client, dep.ID, "succeeded")

	sent := make(chan struct{})
	type answer struct {
		status int
		body   string
		err    error
	}
	got := make(chan answer, 1)
	go func() {
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(sent) }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, "http://"+listen+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- answer{resp.StatusCode, string(b), err}
	}()
	<-sent
	time.Sleep(300 * time.Millisecond) // the proxy has read it and waits on the app
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.err != nil || a.status != http.StatusOK || !strings.Contains(a.body, "v1") {
		t.Errorf("request in flight at SIGTERM: %d %q %v; want 200 from v1", a.status, a.body, a.err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("daemon exit after SIGTERM: %v\n%s", err, p.log())
	}
	if _, err := handoff.ReadPIDFile(p.state); err == nil {
		t.Errorf("pid file left after the daemon exited")
	}
}

// TestSecondDaemonRefused: a second `cutover serve` on the same state directory exits with
// an error naming the running one, and the first one is unaffected.
func TestSecondDaemonRefused(t *testing.T) {
	p := startDaemonProc(t)
	out, err := exec.Command(p.bin, "serve", "--state", p.state, "--listen", "127.0.0.1:0").CombinedOutput()
	want := fmt.Sprintf("used by another cutover serve: lock %s: in use by another process (pid %d)",
		filepath.Join(p.state, "lock"), p.cmd.Process.Pid)
	if err == nil || !strings.Contains(string(out), want) {
		t.Errorf("second serve: %v\n%s\nwant an error containing %q", err, out, want)
	}
	if info, err := p.info(context.Background()); err != nil || info.PID != p.cmd.Process.Pid {
		t.Errorf("first daemon after the refusal: %+v, %v", info, err)
	}
}

// TestHandoffGateRefusesChanges: while a hand-off runs, API changes get 503 with Retry-After
// and change nothing; reads and flag evaluations are served.
func TestHandoffGateRefusesChanges(t *testing.T) {
	h := newHarness(t)
	h.d.handingOff.Store(true)
	_, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: "web", Spec: h.yaml(appSpec{Name: "web", Listen: freeAddr(t), Version: "v1"})})
	if err == nil || !strings.Contains(err.Error(), "handing over") {
		t.Errorf("deploy during a hand-off: %v; want a refusal saying the daemon is handing over", err)
	}
	if svcs, err := h.client.Services(context.Background()); err != nil || len(svcs) != 0 {
		t.Errorf("services during a hand-off: %v, %v; want none, served", svcs, err)
	}
	// Flag evaluations are POSTs that change nothing: the gate lets them through.
	if code := ofrepStatus(t, h.d.Addr(), h.d.Token(), "no-such-flag"); code == http.StatusServiceUnavailable {
		t.Errorf("OFREP evaluation during a hand-off: %d, want it served", code)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+h.d.Addr()+"/v1/services/web/deploy", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+h.d.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("POST during a hand-off: %s, Retry-After %q; want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	h.d.handingOff.Store(false)
	dep := h.deploy(appSpec{Name: "web", Listen: freeAddr(t), Version: "v1"})
	if got := h.wait(dep.ID, 30*time.Second); got.Status != "succeeded" {
		t.Errorf("deploy after the hand-off: %s (%s)", got.Status, got.Reason)
	}
}
