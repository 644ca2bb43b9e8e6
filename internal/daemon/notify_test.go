package daemon

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/notify"
	"github.com/cutover/cutover/internal/testbin"
)

// receiver is a real HTTP server on loopback that records what it is sent.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	got    []received
	srv    *http.Server
	addr   string
}

type received struct {
	ID, Type, Text string
	Signed, Valid  bool
}

// newReceiver listens on addr ("127.0.0.1:0" for any port) and serves until the test ends.
func newReceiver(t *testing.T, addr, secret string) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, secret: secret, addr: ln.Addr().String()}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve)}
	go func() { _ = r.srv.Serve(ln) }()
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var rec received
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/cloudevents+json") {
		var ev struct{ ID, Type string }
		_ = json.Unmarshal(body, &ev)
		rec.ID, rec.Type = ev.ID, ev.Type
		sig := req.Header.Get(notify.SignatureHeader)
		rec.Signed = sig != ""
		rec.Valid = hmac.Equal([]byte(sig), []byte(notify.Sign(r.secret, body)))
	} else {
		var msg struct {
			Text   string
			Blocks []json.RawMessage
		}
		_ = json.Unmarshal(body, &msg)
		rec.Type, rec.Text = req.Header.Get("X-Cutover-Event"), msg.Text+" "+string(body)
		if len(msg.Blocks) == 0 {
			rec.Text = "no blocks"
		}
	}
	r.mu.Lock()
	r.got = append(r.got, rec)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) list() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// count returns how many deliveries of type typ arrived.
func (r *receiver) count(typ string) int {
	n := 0
	for _, g := range r.list() {
		if g.Type == typ {
			n++
		}
	}
	return n
}

func writeNotifyConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "notify.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNotificationsForEveryEvent: a daemon-wide signed webhook receives every deployment
// event type once with a valid signature, and a service's Slack target receives the
// rollback with its verdict in text and blocks; notify list redacts the URLs.
func TestNotificationsForEveryEvent(t *testing.T) {
	hook := newReceiver(t, "127.0.0.1:0", "s3cret")
	chat := newReceiver(t, "127.0.0.1:0", "")
	cfg := writeNotifyConfig(t, fmt.Sprintf("notify:\n  - {name: hooks, type: webhook, url: \"http://%s/hook/TOKEN123\", secret: s3cret}\n", hook.addr))
	h := startWith(t, Options{NotifyConfig: cfg})
	ctx := context.Background()
	listen := freeAddr(t)
	slack := fmt.Sprintf("notify:\n  - {name: team, type: slack, url: \"http://%s/services/T0/B0/SLACKSECRET\", events: [deployment.rolled_back, notify.test]}\n", chat.addr)
	h.wait(h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1", Extra: slack}).ID, 30*time.Second)
	stop := startLoad(t, listen, 200)
	bad := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2", Env: map[string]string{"ERROR_RATE": "0.05"}, Extra: slack,
		Strategy: "canary:\n  steps:\n    - weight: 20\n    - analysis: {duration: 2m}\n    - weight: 100\n"})
	if d := h.wait(bad.ID, 90*time.Second); d.Status != "rolled_back" {
		t.Fatalf("bad canary: %s %q", d.Status, d.Reason)
	}
	paused := "canary:\n  steps:\n    - weight: 10\n    - pause: {}\n    - weight: 100\n"
	for i, act := range []string{"promote", "abort"} {
		dep := h.deploy(appSpec{Name: "web", Listen: listen, Version: fmt.Sprintf("v%d", 3+i), Extra: slack, Strategy: paused})
		waitFor(t, 60*time.Second, "the manual pause", func() bool {
			d, err := h.client.Deployment(ctx, dep.ID)
			return err == nil && strings.Contains(d.Phase, "promote")
		})
		if _, err := h.client.Act(ctx, "web", act); err != nil {
			t.Fatalf("%s: %v", act, err)
		}
		h.wait(dep.ID, 60*time.Second)
	}
	stop()
	// The crashing revision dies 100ms after it listens and is never ready before that (its
	// readiness probe is noticed within milliseconds of the app answering): it crash-loops and
	// is rolled back, whatever the machine's speed.
	crash := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v5", Extra: slack, Env: map[string]string{"STARTUP_DELAY": "300ms", "READY_AFTER": "1s", "EXIT_AFTER": "100ms"}})
	h.wait(crash.ID, 60*time.Second)
	if err := h.client.TestNotification(ctx, "web", ""); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"deployment.started": 5, "deployment.succeeded": 2, "deployment.rolled_back": 2, "deployment.waiting": 2,
		"deployment.promoted": 1, "deployment.aborted": 1, "notify.test": 1}
	t.Cleanup(func() {
		if t.Failed() {
			counts := map[string]int{}
			for _, g := range hook.list() {
				counts[g.Type]++
			}
			t.Logf("webhook deliveries by type: %v; slack notify.test: %d", counts, chat.count("notify.test"))
			for _, g := range hook.list() {
				t.Logf("  %s %.200s", g.Type, g.Text)
			}
		}
	})
	waitFor(t, 30*time.Second, "every notification", func() bool {
		for typ, n := range want {
			if hook.count("dev.cutover."+typ) < n {
				return false
			}
		}
		return hook.count("dev.cutover.instance.crash_loop") > 0 && chat.count("notify.test") == 1
	})
	checkWebhook(t, hook, want)
	checkSlack(t, chat)
	st, err := h.client.Notifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(st)
	if strings.Contains(string(raw), "TOKEN123") || strings.Contains(string(raw), "SLACKSECRET") || strings.Contains(string(raw), "s3cret") {
		t.Errorf("notify list shows a secret: %s", raw)
	}
}

func checkWebhook(t *testing.T, hook *receiver, want map[string]int) {
	t.Helper()
	ids := map[string]bool{}
	for _, g := range hook.list() {
		if !g.Signed || !g.Valid {
			t.Errorf("webhook delivery %s %s: signed %v, valid %v", g.ID, g.Type, g.Signed, g.Valid)
		}
		if ids[g.ID] {
			t.Errorf("event %s (%s) delivered twice", g.ID, g.Type)
		}
		ids[g.ID] = true
	}
	for typ, n := range want {
		if got := hook.count("dev.cutover." + typ); got != n {
			t.Errorf("%s delivered %d times, want %d", typ, got, n)
		}
	}
}

func checkSlack(t *testing.T, chat *receiver) {
	t.Helper()
	for _, g := range chat.list() {
		if g.Type != "deployment.rolled_back" && g.Type != "notify.test" {
			t.Errorf("the Slack target chose rolled_back and test, and got %s", g.Type)
		}
	}
	rb := chat.count("deployment.rolled_back")
	if rb != 2 {
		t.Errorf("slack got %d rollbacks, want 2 (the bad canary and the crash loop)", rb)
	}
	for _, g := range chat.list() {
		if g.Type == "deployment.rolled_back" && strings.Contains(g.Text, "canary") &&
			(!strings.Contains(g.Text, "Verdict") || !strings.Contains(g.Text, " baseline requests")) {
			t.Errorf("the canary's rollback message has no verdict worded by analysis.Describe: %s", g.Text)
		}
	}
}

// TestNotificationsSurviveDownReceiverAndKill9: with the receiver down, deliveries wait in
// the outbox; the daemon is killed with SIGKILL; once the receiver is up and a new daemon
// runs on the same state, every delivery arrives, once, in the order of the events.
func TestNotificationsSurviveDownReceiverAndKill9(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the receiver is down: nothing listens there yet
	cfg := writeNotifyConfig(t, fmt.Sprintf("notify:\n  - {name: hooks, type: webhook, url: \"http://%s/hook\", secret: k}\n", addr))
	state := t.TempDir()
	p := startNotifyServe(t, state, cfg)
	listen := freeAddr(t)
	spec := fmt.Sprintf("name: web\nreplicas: 1\nrun: {command: %s, env: {VERSION: v1}}\nprobes: {readiness: {http: {path: /healthz}, period: 100ms}}\nroute: {listen: %s}\n",
		testbin.Demoapp(t), listen)
	ctx := context.Background()
	for range 3 {
		dep, err := p.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: spec})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "deployment ends", func() bool {
			d, err := p.client.Deployment(ctx, dep.ID)
			return err == nil && d.Final()
		})
		spec = strings.Replace(spec, "VERSION: v", "VERSION: vv", 1)
	}
	var pending int
	waitFor(t, 30*time.Second, "deliveries tried and pending", func() bool {
		st, err := p.client.Notifications(ctx)
		pending = 0
		tried := false
		for _, d := range st.Deliveries {
			if d.Status == "pending" {
				pending++
				tried = tried || d.Attempts > 0
			}
		}
		return err == nil && pending >= 6 && tried
	})
	p.kill9()
	hook := newReceiver(t, addr, "k")
	p2 := startNotifyServe(t, state, cfg)
	waitFor(t, 60*time.Second, "every delivery after the restart", func() bool { return len(hook.list()) >= pending })
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive meanwhile
	got := hook.list()
	last := 0
	for _, g := range got {
		var id int
		fmt.Sscan(g.ID, &id)
		if id <= last || !g.Valid {
			t.Errorf("delivery of event %s (%s) after %d: out of order, twice or badly signed (valid %v)", g.ID, g.Type, last, g.Valid)
		}
		last = id
	}
	if len(got) != pending {
		t.Errorf("%d deliveries arrived, %d were pending", len(got), pending)
	}
	p2.stop()
}

// serveProc is `cutover serve` as its own process over a state directory.
type serveProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	client *api.Client
}

func startNotifyServe(t *testing.T, state, notifyCfg string) *serveProc {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	cmd := exec.Command(testbin.Cutover(t), "serve", "--state", state, "--listen", "127.0.0.1:0", "--addr-file", addrFile,
		"--notify-config", notifyCfg, "--stop-instances")
	logf, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{t: t, cmd: cmd}
	t.Cleanup(p.stop)
	p.client = api.NewClient(servedAt(t, state, addrFile))
	waitFor(t, 10*time.Second, "api healthy", func() bool { return p.client.Health(context.Background()) == nil })
	return p
}

func (p *serveProc) kill9() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

func (p *serveProc) stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		p.kill9()
	}
}

// TestHungReceiverSlowsNoDeployment: a webhook that accepts connections and never answers
// holds back only its own deliveries (retried after the attempt's timeout); deployments run
// as they do without it. The durations are logged for docs/benchmarks.md.
func TestHungReceiverSlowsNoDeployment(t *testing.T) {
	release := make(chan struct{})
	hung := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = hung.Serve(ln) }()
	defer hung.Close()
	defer close(release)
	for _, withHook := range []bool{false, true} {
		opts := Options{}
		if withHook {
			opts.NotifyConfig = writeNotifyConfig(t, fmt.Sprintf("notify:\n  - {name: hung, type: webhook, url: \"http://%s/\"}\n", ln.Addr()))
		}
		h := startWith(t, opts)
		listen := freeAddr(t)
		var took []time.Duration
		for i := range 4 {
			start := time.Now()
			d := h.wait(h.deploy(appSpec{Name: "web", Listen: listen, Version: fmt.Sprintf("v%d", i)}).ID, 60*time.Second)
			took = append(took, time.Since(start).Round(time.Millisecond))
			if d.Status != "succeeded" {
				t.Fatalf("deploy %d with a hung receiver %v: %s %q", i, withHook, d.Status, d.Reason)
			}
		}
		t.Logf("hung receiver %v: deployments took %v", withHook, took)
		if withHook {
			st, err := h.client.Notifications(context.Background())
			if err != nil || len(st.Deliveries) == 0 || st.Deliveries[len(st.Deliveries)-1].Status != "pending" {
				t.Fatalf("deliveries to the hung receiver: %+v (%v); want them pending", st.Deliveries, err)
			}
		}
		h.stop()
	}
}
