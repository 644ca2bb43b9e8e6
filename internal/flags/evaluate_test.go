package flags

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)

func boolFlag(key string) *Flag {
	return &Flag{Key: key, Type: Boolean, Variants: map[string]any{"on": true, "off": false}, DefaultVariant: "off", Enabled: true}
}

func TestConditions(t *testing.T) {
	ec := &EvalContext{TargetingKey: "user-7", Attributes: map[string]any{
		"email": "ann@example.com", "country": "CA", "age": 30.0, "beta": true, "version": "1.4.0-rc.2", "seats": 12,
	}}
	cases := []struct {
		c    Condition
		want bool
	}{
		{Condition{"email", OpEquals, "ann@example.com"}, true},
		{Condition{"email", OpEquals, "bob@example.com"}, false},
		{Condition{"email", OpNotEquals, "bob@example.com"}, true},
		{Condition{"missing", OpNotEquals, "x"}, false}, // missing never matches
		{Condition{"age", OpEquals, 30.0}, true},
		{Condition{"seats", OpEquals, 12.0}, true}, // Go ints compare as numbers
		{Condition{"age", OpEquals, "30"}, false},  // different types are unequal
		{Condition{"beta", OpEquals, true}, true},
		{Condition{"country", OpOneOf, []any{"US", "CA"}}, true},
		{Condition{"country", OpOneOf, []any{"US", "MX"}}, false},
		{Condition{"country", OpNotOneOf, []any{"US", "MX"}}, true},
		{Condition{"email", OpStartsWith, "ann@"}, true},
		{Condition{"email", OpEndsWith, "@example.com"}, true},
		{Condition{"email", OpEndsWith, "@example.org"}, false},
		{Condition{"email", OpContains, "@ex"}, true},
		{Condition{"age", OpStartsWith, "3"}, false}, // string operator on a number
		{Condition{"age", OpLT, 31.0}, true},
		{Condition{"age", OpLE, 30.0}, true},
		{Condition{"age", OpGT, 30.0}, false},
		{Condition{"age", OpGE, 30.0}, true},
		{Condition{"country", OpGT, 1.0}, false},
		{Condition{"version", OpSemverLT, "1.4.0"}, true},
		{Condition{"version", OpSemverGE, "1.4.0-rc.1"}, true},
		{Condition{"version", OpSemverGT, "1.4.0-rc.10"}, false},
		{Condition{"version", OpSemverLE, "1.4.0-rc.2"}, true},
		{Condition{"version", OpSemverEQ, "v1.4.0-rc.2"}, true},
		{Condition{"country", OpSemverEQ, "1.0.0"}, false}, // not a version
		{Condition{"targetingKey", OpStartsWith, "user-"}, true},
		{Condition{"email", "like", "x"}, false},
	}
	for _, c := range cases {
		if got := c.c.match(ec); got != c.want {
			t.Errorf("%s %s %v = %v, want %v", c.c.Attribute, c.c.Op, c.c.Value, got, c.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	segs := Segments{"staff": {Name: "staff", Conditions: []Condition{{"email", OpEndsWith, "@corp.com"}}}}
	withRules := boolFlag("f")
	withRules.Rules = []Rule{
		{Segments: []string{"staff"}, Variant: "on"},
		{Segments: []string{"gone"}, Variant: "on"},
		{Conditions: []Condition{{"plan", OpEquals, "beta"}}, Split: []Weight{{"on", 0}, {"off", 100}}},
	}
	disabled := boolFlag("d")
	disabled.Enabled = false
	badVariant := boolFlag("b")
	badVariant.DefaultVariant = "nope"
	ro := boolFlag("r")
	ro.Rollout = &Rollout{Variant: "on", Steps: []Step{{t0, 100}}}
	staff := &EvalContext{Attributes: map[string]any{"email": "x@corp.com"}}
	cases := []struct {
		name string
		f    *Flag
		ec   *EvalContext
		now  time.Time
		want Result
	}{
		{"static", boolFlag("s"), &EvalContext{}, t0, Result{Value: false, Variant: "off", Reason: ReasonStatic}},
		{"disabled", disabled, staff, t0, Result{Value: false, Variant: "off", Reason: ReasonDisabled}},
		{"segment", withRules, staff, t0, Result{Value: true, Variant: "on", Reason: ReasonTargetingMatch}},
		{"default", withRules, &EvalContext{}, t0, Result{Value: false, Variant: "off", Reason: ReasonDefault}},
		{"split", withRules, &EvalContext{TargetingKey: "k", Attributes: map[string]any{"plan": "beta"}}, t0,
			Result{Value: false, Variant: "off", Reason: ReasonSplit}},
		{"split without key", withRules, &EvalContext{Attributes: map[string]any{"plan": "beta"}}, t0,
			Result{Reason: ReasonError, ErrorCode: CodeTargetingKeyMissing, ErrorDetails: `flag "f" splits users by targeting key, and the context has none`}},
		{"rollout before its first step", ro, &EvalContext{}, t0.Add(-time.Second), Result{Value: false, Variant: "off", Reason: ReasonDefault}},
		{"rollout at 100 needs no key", ro, &EvalContext{}, t0, Result{Value: true, Variant: "on", Reason: ReasonSplit}},
		{"undefined variant", badVariant, &EvalContext{}, t0, Result{Reason: ReasonError, ErrorCode: CodeGeneral, ErrorDetails: `flag "b": variant "nope" is not defined`}},
	}
	for _, c := range cases {
		if diff := cmp.Diff(Evaluate(c.f, segs, c.ec, c.now), c.want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", c.name, diff)
		}
	}
}

func TestRolloutPercent(t *testing.T) {
	halted := t0.Add(90 * time.Minute)
	r := &Rollout{Variant: "on", Steps: []Step{{t0, 5}, {t0.Add(time.Hour), 25}, {t0.Add(2 * time.Hour), 100}}}
	h := &Rollout{Variant: "on", Steps: r.Steps, Halted: true, HaltedAt: &halted}
	cases := []struct {
		r    *Rollout
		at   time.Duration
		want float64
	}{
		{r, -time.Minute, 0}, {r, 0, 5}, {r, 59 * time.Minute, 5}, {r, time.Hour, 25}, {r, 3 * time.Hour, 100},
		{h, 30 * time.Minute, 5}, {h, 3 * time.Hour, 25},
	}
	for _, c := range cases {
		if got := c.r.Percent(t0.Add(c.at)); got != c.want {
			t.Errorf("halted=%v at +%v: %v%%, want %v%%", c.r.Halted, c.at, got, c.want)
		}
	}
	if next, ok := r.NextStep(t0); !ok || !next.Equal(t0.Add(time.Hour)) {
		t.Errorf("NextStep(t0) = %v %v", next, ok)
	}
	if _, ok := h.NextStep(t0); ok {
		t.Error("a halted rollout has a next step")
	}
}

// TestBucketingGolden pins (flag, key) → variant for a split and a rollout. These must never
// change: users would switch variants on upgrade.
func TestBucketingGolden(t *testing.T) {
	split := &Flag{Key: "pricing", Type: String, Enabled: true, DefaultVariant: "a",
		Variants: map[string]any{"a": "A", "b": "B", "c": "C"},
		Rules:    []Rule{{Conditions: []Condition{{"targetingKey", OpStartsWith, ""}}, Split: []Weight{{"a", 20}, {"b", 30}, {"c", 50}}}}}
	ro := boolFlag("new-checkout")
	ro.Rollout = &Rollout{Variant: "on", Steps: []Step{{t0, 25}}}
	salted := boolFlag("new-checkout")
	salted.Salt = "v2"
	salted.Rollout = ro.Rollout
	want := map[string][3]string{ // key → pricing, new-checkout, new-checkout with salt v2
		"user-1": {"a", "off", "off"}, "user-2": {"b", "on", "on"}, "user-3": {"a", "on", "off"}, "user-4": {"c", "off", "off"},
		"user-5": {"c", "off", "on"}, "alice@example.com": {"a", "off", "off"}, "42": {"c", "off", "off"}, "ü": {"c", "on", "off"},
	}
	for key, w := range want {
		ec := &EvalContext{TargetingKey: key}
		got := [3]string{Evaluate(split, nil, ec, t0).Variant, Evaluate(ro, nil, ec, t0).Variant, Evaluate(salted, nil, ec, t0).Variant}
		if got != w {
			t.Errorf("key %q: got %q, want %q", key, got, w)
		}
	}
}

func TestSplitDistribution(t *testing.T) {
	f := &Flag{Key: "exp", Type: String, Enabled: true, DefaultVariant: "a",
		Variants: map[string]any{"a": "A", "b": "B", "c": "C", "d": "D"},
		Rules: []Rule{{Conditions: []Condition{{"targetingKey", OpStartsWith, "u"}},
			Split: []Weight{{"a", 10}, {"b", 25}, {"c", 60}, {"d", 5}}}}}
	const n = 100000
	counts := map[string]int{}
	for i := range n {
		counts[Evaluate(f, nil, &EvalContext{TargetingKey: fmt.Sprintf("u%d", i)}, t0).Variant]++
	}
	for _, w := range f.Rules[0].Split {
		share := float64(counts[w.Variant]) / n * 100
		if share < float64(w.Weight)-1 || share > float64(w.Weight)+1 {
			t.Errorf("variant %s got %.2f%% of %d keys, want %d%% ± 1", w.Variant, share, n, w.Weight)
		}
	}
}

// TestRaisingOnlyMovesOffToOn raises a rollout and a split in steps; no key may ever go back.
func TestRaisingOnlyMovesOffToOn(t *testing.T) {
	ro := boolFlag("grow")
	sp := boolFlag("grow")
	sp.Rules = []Rule{{Conditions: []Condition{{"targetingKey", OpStartsWith, "k"}}}}
	const n = 20000
	wasOn := make([][2]bool, n)
	for p := 0; p <= 100; p += 5 {
		ro.Rollout = &Rollout{Variant: "on", Steps: []Step{{t0, float64(p)}}}
		sp.Rules[0].Split = []Weight{{"on", p}, {"off", 100 - p}}
		for i := range n {
			ec := &EvalContext{TargetingKey: fmt.Sprintf("k%d", i)}
			for j, f := range []*Flag{ro, sp} {
				on := Evaluate(f, nil, ec, t0).Value == true
				if wasOn[i][j] && !on {
					t.Fatalf("k%d went from on to off when %s grew to %d%%", i, []string{"the rollout", "the split"}[j], p)
				}
				wasOn[i][j] = on
			}
		}
	}
	// Rollout and split use the same buckets, so at equal shares they agree.
	for i := range n {
		if wasOn[i][0] != wasOn[i][1] {
			t.Fatalf("k%d: rollout and split disagree at 100%%", i)
		}
	}
}
