package fleet

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

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
	return runtime.Status{ID: id, State: runtime.StateRunning, Addr: "127.0.0.1:49153", ProbeAddr: "172.17.0.9:8080"}, nil
}

// Probes go to the instance's own address, not to the forwarder in front of it that
// accepts connections before the app listens; traffic goes to the published address.
func TestProbesTargetTheInstanceItself(t *testing.T) {
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logger := slog.New(slog.DiscardHandler)
	var mu sync.Mutex
	var targets []string
	f := New(Config{Store: st, Proxy: proxy.New(logger, proxy.Config{}), Runtime: addrRuntime{}, Events: discardEvents{}, Logger: logger,
		Probers: func(_ spec.Probes, tg health.Target, _ *slog.Logger) Prober {
			mu.Lock()
			defer mu.Unlock()
			targets = append(targets, tg.Addr)
			return idleProber{}
		}})
	f.NoteRevision("web", 1, spec.Service{Name: "web", Replicas: 1})
	if err := f.Instances().Start(t.Context(), "web", 1, 1, 7, false); err != nil {
		t.Fatalf("start: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(targets) != 1 || targets[0] != "172.17.0.9:8080" {
		t.Errorf("probe targets %v, want the instance's own address 172.17.0.9:8080", targets)
	}
	if v := f.InstanceViews("web"); len(v) != 1 || v[0].Addr != "127.0.0.1:49153" {
		t.Errorf("instance views %+v, want the published address", v)
	}
}
