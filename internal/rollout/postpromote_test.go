package rollout

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// hookWorld runs hooks for a world and notes what had been saved when post_promote ran.
type hookWorld struct {
	*world
	mu      sync.Mutex
	runs    int
	during  []State // the states saved before post_promote began, at its first run
	onHook  func()  // called inside the hook (nil: nothing)
	outcome error
}

func (h *hookWorld) RunHook(_ context.Context, _ *Deployment, name string, _ spec.Hook) error {
	if name != HookPostPromote {
		return nil
	}
	h.world.mu.Lock()
	saved := append([]State(nil), h.world.states...)
	h.world.mu.Unlock()
	h.mu.Lock()
	h.runs++
	if h.runs == 1 {
		h.during = saved
	}
	h.mu.Unlock()
	if h.onHook != nil {
		h.onHook()
	}
	return h.outcome
}

func rollingWithPostPromote() *Deployment {
	s := spec.Service{Name: "web", Replicas: 2, Run: spec.Run{Command: "x"}, Route: spec.Route{Listen: ":1"},
		Hooks: spec.Hooks{PostPromote: &spec.Hook{Command: "true"}}}
	spec.Default(&s)
	now := time.Now()
	return &Deployment{ID: 3, Service: "web", Spec: s, State: State{Strategy: spec.TypeRolling, From: 1, To: 2, Replicas: 2,
		Status: StatusRunning, Phase: "starting", StartedAt: now, LastProgressAt: now}}
}

func newHookController(h *hookWorld) *Controller {
	return NewController(h.world, h.world, h.world, h, h.world, slog.New(slog.NewTextHandler(io.Discard, nil)), Config{Tick: 5 * time.Millisecond})
}

// A deployment is recorded succeeded only with its post_promote hook's outcome, never before
// the hook has run: `deploy --wait` returns after the hook.
func TestSucceededOnlyAfterPostPromote(t *testing.T) {
	for _, outcome := range []error{nil, io.ErrUnexpectedEOF} {
		d := rollingWithPostPromote()
		if errs := spec.Validate(&d.Spec); len(errs) > 0 {
			t.Fatalf("test spec invalid: %v", errs)
		}
		h := &hookWorld{world: &world{}, outcome: outcome}
		_ = h.world.Start(t.Context(), "web", 1, 2, 0, false)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		err := newHookController(h).Drive(ctx, d, nil, nil)
		cancel()
		if err != nil {
			t.Fatalf("Drive: %v", err)
		}
		if h.runs != 1 {
			t.Fatalf("post_promote ran %d times, want once", h.runs)
		}
		if len(h.during) == 0 {
			t.Fatal("nothing was saved before post_promote ran")
		}
		for _, st := range h.during {
			if !st.Status.Active() {
				t.Fatalf("state saved as %s before post_promote ran: %+v", st.Status, st)
			}
		}
		if last := h.during[len(h.during)-1]; !last.Promoted || last.Phase != phasePostPromote {
			t.Fatalf("state before the hook = %+v, want promoted in phase %s", last, phasePostPromote)
		}
		final := h.world.states[len(h.world.states)-1]
		if final.Status != StatusSucceeded || final.Promoted || final.Phase != phasePromoted {
			t.Fatalf("final state = %+v, want succeeded, promoted", final)
		}
		want := "passed"
		if outcome != nil {
			want = "failed: " + outcome.Error()
		}
		if final.Hooks[HookPostPromote] != want {
			t.Fatalf("post_promote outcome recorded %q, want %q", final.Hooks[HookPostPromote], want)
		}
	}
}

// A daemon stopped while post_promote runs leaves the deployment running, promoted; the next
// one runs the hook and records the success.
func TestPostPromoteRunsAgainAfterAStop(t *testing.T) {
	d := rollingWithPostPromote()
	if errs := spec.Validate(&d.Spec); len(errs) > 0 {
		t.Fatalf("test spec invalid: %v", errs)
	}
	w := &world{}
	_ = w.Start(t.Context(), "web", 1, 2, 0, false)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	h := &hookWorld{world: w, onHook: cancel, outcome: context.Canceled}
	if err := newHookController(h).Drive(ctx, d, nil, nil); err == nil {
		t.Fatal("Drive returned nil after its context was cancelled in the hook")
	}
	saved := w.states[len(w.states)-1]
	if saved.Status != StatusRunning || !saved.Promoted || saved.Hooks[HookPostPromote] != "" {
		t.Fatalf("saved state after the stop = %+v, want running, promoted, no hook outcome", saved)
	}
	restarted := &Deployment{ID: d.ID, Service: d.Service, Spec: d.Spec, State: saved}
	h2 := &hookWorld{world: w}
	ctx2, cancel2 := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel2()
	if err := newHookController(h2).Drive(ctx2, restarted, nil, nil); err != nil {
		t.Fatalf("Drive after restart: %v", err)
	}
	final := w.states[len(w.states)-1]
	if h2.runs != 1 || final.Status != StatusSucceeded || final.Hooks[HookPostPromote] != "passed" {
		t.Fatalf("after restart: hook runs %d, final %+v", h2.runs, final)
	}
}
