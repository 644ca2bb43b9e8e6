package flags

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchFlags returns a rule-free flag, a flag with a segment rule and conditions, and a split.
func benchFlags() (plain, rules, split *Flag, segs Segments) {
	plain = boolFlag("plain")
	rules = boolFlag("rules")
	rules.Rules = []Rule{
		{Segments: []string{"staff"}, Variant: "on"},
		{Conditions: []Condition{{"country", OpOneOf, []any{"US", "MX"}}, {"version", OpSemverGE, "2.0.0"}}, Variant: "on"},
	}
	split = boolFlag("split")
	split.Rollout = &Rollout{Variant: "on", Steps: []Step{{t0, 30}}}
	segs = Segments{"staff": {Name: "staff", Conditions: []Condition{{"email", OpEndsWith, "@corp.com"}}}}
	return
}

var benchCtx = &EvalContext{TargetingKey: "user-12345", Attributes: map[string]any{
	"email": "ann@example.com", "country": "CA", "version": "1.9.3",
}}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	plain, rules, split, segs := benchFlags()
	for _, f := range []*Flag{plain, rules, split} {
		if n := testing.AllocsPerRun(200, func() { Evaluate(f, segs, benchCtx, t0) }); n != 0 {
			t.Errorf("Evaluate(%s) allocates %v times, want 0", f.Key, n)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	plain, rules, split, segs := benchFlags()
	for _, f := range []*Flag{plain, rules, split} {
		b.Run(f.Key, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Evaluate(f, segs, benchCtx, t0)
			}
		})
	}
}

func BenchmarkSnapshotEvaluate(b *testing.B) {
	plain, _, _, segs := benchFlags()
	s := newSnapshot(map[string]*Flag{"plain": plain}, segs, t0)
	b.ReportAllocs()
	for b.Loop() {
		s.Evaluate("plain", benchCtx, t0)
	}
}

// BenchmarkBulk100 is one in-process bulk OFREP request over 100 flags (no network).
func BenchmarkBulk100(b *testing.B) {
	flags := map[string]*Flag{}
	for i := range 100 {
		f := boolFlag(fmt.Sprintf("flag-%03d", i))
		if i%2 == 0 {
			f.Rollout = &Rollout{Variant: "on", Steps: []Step{{t0, 50}}}
		}
		flags[f.Key] = f
	}
	m := NewManager(&MemStore{}, slog.New(slog.DiscardHandler), ManagerOptions{})
	m.snap.Store(newSnapshot(flags, Segments{}, t0))
	h := NewOFREPHandler(m, slog.New(slog.DiscardHandler), OFREPOptions{Tokens: NewStaticTokens("t")})
	body := `{"context":{"targetingKey":"user-1","country":"CA"}}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/ofrep/v1/evaluate/flags", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer t")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
}
