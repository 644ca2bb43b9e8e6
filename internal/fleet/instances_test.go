package fleet

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/health"
	"github.com/cutover/cutover/internal/proxy"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

func TestIsBaseline(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{newInstanceID("web", 3, true), true},
		{newInstanceID("web", 3, false), false},
		{newInstanceID("my-web-b", 12, false), false},
		{"web-3-b0a1b2c", true},
		{"web-3-b0a1b2", false},  // an ordinary ID whose hex starts with b
		{"web-3-bxyzxyz", false}, // not hex
		{"web-3-c0a1b2c", false}, // no b mark
		{"web-b0a1b2c-3-0a1b2c", false},
		{"", false},
	} {
		if got := IsBaseline(tc.id); got != tc.want {
			t.Errorf("IsBaseline(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

// addrRuntime reports every instance running at a published address with its own address
// behind it, as the Docker driver does.
type addrRuntime struct {
	runtime.Driver // nil: any other call panics
}

func (addrRuntime) Start(context.Context, []runtime.InstanceSpec) error { return nil }
func (addrRuntime) Status(_ context.Context, id string) (runtime.Status, error) {
	return runtime.Status{ID: id, State: runtime.StateRunning, Addr: "127.0.0.1:49153", DirectAddr: "172.17.0.9:8080"}, nil
}

// readyProber reports its instance ready at once.
type readyProber struct{ idleProber }

func (readyProber) Run(ctx context.Context, report func(health.Result)) {
	report(health.Result{Started: true, Ready: true, Live: true, ReadySince: time.Now()})
	<-ctx.Done()
}

// targetsProxy records the addresses of the targets set.
type targetsProxy struct {
	*proxy.Proxy
	mu    sync.Mutex
	addrs []string
}

func (p *targetsProxy) SetTargets(service string, groups []proxy.Group, preview int) {
	p.mu.Lock()
	for _, g := range groups {
		for _, t := range g.Targets {
			p.addrs = append(p.addrs, t.Addr)
		}
	}
	p.mu.Unlock()
	p.Proxy.SetTargets(service, groups, preview)
}

func (p *targetsProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.addrs)
}

// Probes and traffic go to the instance's own address, not to the forwarder in front of it
// that accepts connections before the app listens; people see the published address.
func TestProbesAndTrafficReachTheInstanceItself(t *testing.T) {
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logger := slog.New(slog.DiscardHandler)
	var mu sync.Mutex
	var targets []string
	px := &targetsProxy{Proxy: proxy.New(logger, proxy.Config{})}
	f := New(Config{Store: st, Proxy: px, Runtime: addrRuntime{}, Events: discardEvents{}, Logger: logger,
		Probers: func(_ spec.Probes, tg health.Target, _ *slog.Logger) Prober {
			mu.Lock()
			defer mu.Unlock()
			targets = append(targets, tg.Addr)
			return readyProber{}
		}})
	// The instances' probers run, not the reconcile loop (the runtime has no List).
	ctx, cancel := context.WithCancel(t.Context())
	f.tasks.start(ctx)
	defer func() { cancel(); f.tasks.wait() }()
	f.NoteRevision("web", 1, spec.Service{Name: "web", Replicas: 1})
	if err := f.Instances().Start(t.Context(), "web", 1, 1, 7, false); err != nil {
		t.Fatalf("start: %v", err)
	}
	mu.Lock()
	if len(targets) != 1 || targets[0] != "172.17.0.9:8080" {
		t.Errorf("probe targets %v, want the instance's own address 172.17.0.9:8080", targets)
	}
	mu.Unlock()
	if v := f.InstanceViews("web"); len(v) != 1 || v[0].Addr != "127.0.0.1:49153" {
		t.Errorf("instance views %+v, want the published address", v)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(px.seen()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := px.seen(); len(got) == 0 || slices.ContainsFunc(got, func(a string) bool { return a != "172.17.0.9:8080" }) {
		t.Errorf("proxy targets %v, want only the instance's own address 172.17.0.9:8080", got)
	}
}
