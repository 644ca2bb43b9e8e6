package flags

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newManager(t *testing.T, now func() time.Time) (*Manager, *MemStore) {
	t.Helper()
	st := &MemStore{}
	m := NewManager(st, slog.New(slog.DiscardHandler), ManagerOptions{Now: now})
	if err := m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m, st
}

func TestManagerAudit(t *testing.T) {
	ctx := context.Background()
	m, st := newManager(t, func() time.Time { return t0 })
	if err := m.PutFlag(ctx, "alice", *boolFlag("f")); err != nil {
		t.Fatal(err)
	}
	if err := m.SetEnabled(ctx, "bob", "f", false); err != nil {
		t.Fatal(err)
	}
	if err := m.SetEnabled(ctx, "bob", "f", false); err != nil { // no change: no record
		t.Fatal(err)
	}
	if err := m.DeleteFlag(ctx, "carol", "f"); err != nil {
		t.Fatal(err)
	}
	h, err := m.History(ctx, HistoryQuery{Kind: KindFlag, Key: "f"})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID                  int64
		Actor, Action       string
		BeforeOn, AfterOn   any
		BeforeNil, AfterNil bool
	}
	var got []row
	for _, r := range h {
		if !r.Time.Equal(t0) {
			t.Errorf("record %d time %v, want %v", r.ID, r.Time, t0)
		}
		got = append(got, row{r.ID, r.Actor, r.Action, enabledOf(t, r.Before), enabledOf(t, r.After), isNull(r.Before), isNull(r.After)})
	}
	want := []row{
		{3, "carol", "delete", false, nil, false, true},
		{2, "bob", "disable", true, false, false, false},
		{1, "alice", "create", nil, true, true, false},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("history (-got +want):\n%s", diff)
	}
	if fs, _, _ := st.LoadFlags(ctx); len(fs) != 0 {
		t.Errorf("store still holds %d flags after the delete", len(fs))
	}
}

func enabledOf(t *testing.T, raw json.RawMessage) any {
	if isNull(raw) {
		return nil
	}
	var f Flag
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.Enabled
}

func TestManagerRejects(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, nil)
	bad := *boolFlag("f")
	bad.Rules = []Rule{{Split: []Weight{{"on", 70}, {"off", 20}}}, {Variant: "maybe"}}
	err := m.PutFlag(ctx, "alice", bad)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != 2 {
		t.Fatalf("PutFlag(bad) = %v, want 2 field errors", err)
	}
	if want := "rules[0].split: weights sum to 90, want 100"; ve.Errors[0].Error() != want {
		t.Errorf("first error %q, want %q", ve.Errors[0], want)
	}
	if _, err := m.Flag("f"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after a rejected put: Flag = %v, want ErrNotFound", err)
	}
	if h, _ := m.History(ctx, HistoryQuery{}); len(h) != 0 {
		t.Errorf("a rejected put left %d audit records", len(h))
	}
	seg := Segment{Name: "staff", Conditions: []Condition{{"email", OpEndsWith, "@corp.com"}}}
	if err := m.PutSegment(ctx, "alice", seg); err != nil {
		t.Fatal(err)
	}
	f := *boolFlag("f")
	f.Rules = []Rule{{Segments: []string{"staff"}, Variant: "on"}}
	if err := m.PutFlag(ctx, "alice", f); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteSegment(ctx, "alice", "staff"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `flag "f" still uses`) {
		t.Errorf("DeleteSegment in use = %v, want refusal", err)
	}
	if err := m.SetEnabled(ctx, "a", "nope", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetEnabled(nope) = %v, want ErrNotFound", err)
	}
	if err := m.HaltRollout(ctx, "a", "f", true); !errors.Is(err, ErrInvalid) {
		t.Errorf("HaltRollout without rollout = %v, want ErrInvalid", err)
	}
}

func TestManagerCopies(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, nil)
	f := *boolFlag("f")
	if err := m.PutFlag(ctx, "a", f); err != nil {
		t.Fatal(err)
	}
	f.Variants["on"] = "changed by the caller" // must not reach the stored flag
	got, _ := m.Flag("f")
	got.Variants["off"] = "changed again"
	if res := m.Snapshot().Evaluate("f", &EvalContext{}, t0); res.Value != false {
		t.Errorf("caller edits leaked into the manager: %v", res.Value)
	}
}

// TestRunWakesAtRolloutSteps: watchers hear of a rollout step when its time comes, and a
// halted rollout stays where it was.
func TestRunWakesAtRolloutSteps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		m, _ := newManager(t, time.Now)
		start := time.Now()
		f := *boolFlag("f")
		f.Rollout = &Rollout{Variant: "on", Steps: []Step{{start.Add(time.Hour), 100}, {start.Add(3 * time.Hour), 100}}}
		if err := m.PutFlag(ctx, "a", f); err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		changed, seq := m.Changes()
		synctest.Wait()
		select {
		case <-changed:
			t.Fatal("woken before the step")
		default:
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		select {
		case <-changed:
		default:
			t.Fatal("not woken at the step")
		}
		if _, now := m.Changes(); now != seq+1 {
			t.Errorf("sequence %d, want %d", now, seq+1)
		}
		if res := m.Snapshot().Evaluate("f", &EvalContext{}, time.Now()); res.Variant != "on" {
			t.Errorf("after the step: %v", res)
		}
		if err := m.HaltRollout(ctx, "ops", "f", true); err != nil {
			t.Fatal(err)
		}
		changed, seq = m.Changes()
		time.Sleep(3 * time.Hour)
		synctest.Wait()
		if _, now := m.Changes(); now != seq {
			t.Errorf("a halted rollout woke watchers (%d → %d)", seq, now)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
}
