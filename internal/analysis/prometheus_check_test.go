package analysis

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestConditionHolds(t *testing.T) {
	for _, tc := range []struct {
		c    Condition
		v    float64
		want bool
	}{
		{Condition{"<", 0.01}, 0.005, true}, {Condition{"<", 0.01}, 0.01, false},
		{Condition{"<=", 0.01}, 0.01, true}, {Condition{"<=", 0.01}, 0.02, false},
		{Condition{">", 0.95}, 0.96, true}, {Condition{">", 0.95}, 0.95, false},
		{Condition{">=", 0.95}, 0.95, true}, {Condition{">=", 0.95}, 0.9, false},
		{Condition{"==", 1}, 1, true}, {Condition{"==", 1}, 0, false},
		{Condition{"!=", 1}, 0, true}, {Condition{"!=", 1}, 1, false},
		{Condition{"<", 1}, math.NaN(), false}, {Condition{"!=", 1}, math.NaN(), false},
		{Condition{"<", 1}, math.Inf(1), false}, {Condition{">", 1}, math.Inf(1), true},
		{Condition{"=", 1}, 1, false},
	} {
		if got := tc.c.Holds(tc.v); got != tc.want {
			t.Errorf("%s with result %v: Holds = %v, want %v", tc.c, tc.v, got, tc.want)
		}
	}
}

func TestEvaluateCheck(t *testing.T) {
	lt := Condition{"<", 0.01}
	for _, tc := range []struct {
		name   string
		cond   Condition
		v      float64
		err    error
		want   Outcome
		reason string
	}{
		{"pass", lt, 0.001, nil, Pass, "result 0.001 satisfies result < 0.01"},
		{"fail", lt, 0.5, nil, Fail, "result 0.5 does not satisfy result < 0.01"},
		{"infinity fails", lt, math.Inf(1), nil, Fail, "result +Inf does not satisfy"},
		{"NaN", lt, math.NaN(), nil, Inconclusive, "query returned NaN"},
		{"no data", lt, 0, fmt.Errorf("prometheus x: %w", ErrNoData), Inconclusive, "no data: prometheus x: query returned no data"},
		{"error", lt, 0, errors.New("prometheus x unreachable: connection refused"), Inconclusive, "unreachable: connection refused"},
		{"error with a value that would pass", lt, 0, errors.New("HTTP 500"), Inconclusive, "HTTP 500"},
		{"bad condition", Condition{"~", 1}, 0, nil, Inconclusive, "invalid condition"},
	} {
		got := EvaluateCheck(tc.cond, tc.v, tc.err)
		if got.Outcome != tc.want || !strings.Contains(got.Reason, tc.reason) {
			t.Errorf("%s: EvaluateCheck = %+v, want %s with reason containing %q", tc.name, got, tc.want, tc.reason)
		}
	}
}

// res makes run results: p pass, f fail, i inconclusive.
func res(s string) []CheckResult {
	var out []CheckResult
	for _, c := range s {
		switch c {
		case 'p':
			out = append(out, CheckResult{Pass, 0.001, "result 0.001 satisfies result < 0.01"})
		case 'f':
			out = append(out, CheckResult{Fail, 0.5, "result 0.5 does not satisfy result < 0.01"})
		case 'i':
			out = append(out, CheckResult{Inconclusive, math.NaN(), "prometheus unreachable"})
		}
	}
	return out
}

func TestCheckLimits(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fail, inc int
		runs      string
		want      string // standing after each run: p, f or i
		reason    string // in the last standing's reason
	}{
		{"nothing yet", 0, 0, "", "", "waiting for the first check"},
		{"first fail fails", 0, 0, "pf", "pf", "1 failed checks in a row, failure_limit 0"},
		{"first run inconclusive", 0, 0, "i", "i", "prometheus unreachable"},
		{"inconclusive at once by default", 0, 0, "pip", "pip", "satisfies"},
		{"fail stays failed", 0, 0, "fppp", "ffff", "does not satisfy"},
		{"failure_limit 2", 2, 0, "fffp", "iiff", "3 failed checks in a row, failure_limit 2"},
		{"a pass resets the fail streak", 1, 0, "fpfpf", "ipipi", "failed check 1 of 2 allowed by failure_limit 1"},
		{"inconclusive does not break a fail streak", 1, 5, "fif", "iif", "2 failed checks in a row"},
		{"inconclusive_limit tolerates", 0, 2, "piip", "pppp", "satisfies"},
		{"tolerance is said", 0, 2, "pii", "ppp", "before 2 inconclusive checks (inconclusive_limit 2; latest: prometheus unreachable)"},
		{"inconclusive_limit exceeded", 0, 2, "piii", "pppi", "3 inconclusive checks in a row exceed inconclusive_limit 2"},
		{"limit no help before a conclusive run", 0, 3, "ii", "ii", "prometheus unreachable"},
		{"tolerated after a fail within the limit", 1, 1, "fi", "ii", "failed check 1 of 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCheck(CheckConfig{Name: "err", Condition: Condition{"<", 0.01}, FailureLimit: tc.fail, InconclusiveLimit: tc.inc})
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			at := time.Unix(0, 0)
			for _, r := range res(tc.runs) {
				at = at.Add(10 * time.Second)
				c.Record(at, "q", r)
				got.WriteString(string(c.Evidence().Outcome[:1]))
			}
			if got.String() != tc.want {
				t.Errorf("standings after %q = %q, want %q", tc.runs, got.String(), tc.want)
			}
			if ev := c.Evidence(); !strings.Contains(ev.Reason, tc.reason) {
				t.Errorf("last reason = %q, want it to contain %q", ev.Reason, tc.reason)
			}
		})
	}
}

func TestCheckEvidenceFields(t *testing.T) {
	c, err := NewCheck(CheckConfig{Name: "err", Condition: Condition{"<", 0.01}, FailureLimit: 1})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Record(at, `sum(x{revision="2"})`, res("f")[0])
	c.Record(at.Add(time.Second), `sum(x{revision="2"})`, res("i")[0])
	want := CheckEvidence{Name: "err", Condition: "result < 0.01", Outcome: Inconclusive,
		Reason: `1 inconclusive checks in a row exceed inconclusive_limit 0: prometheus unreachable (query: sum(x{revision="2"}))`,
		Query:  `sum(x{revision="2"})`, Last: Inconclusive, At: at.Add(time.Second), Runs: 2, ConsecutiveFails: 1, ConsecutiveInconclusive: 1}
	if diff := cmp.Diff(want, c.Evidence()); diff != "" {
		t.Errorf("Evidence (-want +got):\n%s", diff)
	}
	c.Record(at.Add(2*time.Second), `q2`, res("f")[0])
	ev := c.Evidence()
	if ev.Outcome != Fail || ev.Value != "0.5" || ev.Runs != 3 || !c.Failed() {
		t.Fatalf("after a second fail: %+v, want a failed check with value 0.5", ev)
	}
	c.Record(at.Add(3*time.Second), `q3`, res("p")[0])
	if diff := cmp.Diff(ev, c.Evidence()); diff != "" {
		t.Errorf("a failed check changed after a pass (-before +after):\n%s", diff)
	}
}

func TestNewCheckRefuses(t *testing.T) {
	for _, cfg := range []CheckConfig{
		{Condition: Condition{"<", 1}},
		{Name: "a", Condition: Condition{"=", 1}},
		{Name: "a", Condition: Condition{"<", math.NaN()}},
		{Name: "a", Condition: Condition{"<", 1}, FailureLimit: -1},
	} {
		if _, err := NewCheck(cfg); err == nil {
			t.Errorf("NewCheck(%+v) = nil error, want one", cfg)
		}
	}
}

func TestCombineChecks(t *testing.T) {
	judgePass := Verdict{Pass, RuleMinRequests, "no regression found", Evidence{Windows: 3}}
	judgeInc := Verdict{Inconclusive, "", "analysing", Evidence{Windows: 3}}
	judgeFail := Verdict{Fail, RuleErrorRatio, "canary errors", Evidence{Windows: 3}}
	ck := func(name string, o Outcome) CheckEvidence {
		return CheckEvidence{Name: name, Outcome: o, Reason: name + " is " + string(o)}
	}
	for _, tc := range []struct {
		name   string
		v      Verdict
		checks []CheckEvidence
		want   Outcome
		rule   Rule
		reason string
	}{
		{"no checks: judge pass", judgePass, nil, Pass, RuleMinRequests, "no regression found"},
		{"all pass", judgePass, []CheckEvidence{ck("a", Pass), ck("b", Pass)}, Pass, RuleMinRequests, "no regression found; 2 prometheus checks pass"},
		{"judge fail wins", judgeFail, []CheckEvidence{ck("a", Fail)}, Fail, RuleErrorRatio, "canary errors"},
		{"check fail beats judge pass", judgePass, []CheckEvidence{ck("a", Pass), ck("b", Fail)}, Fail, "prometheus:b", "prometheus check b: b is fail"},
		{"check fail beats judge inconclusive", judgeInc, []CheckEvidence{ck("a", Inconclusive), ck("b", Fail)}, Fail, "prometheus:b", "b is fail"},
		{"inconclusive check blocks a pass", judgePass, []CheckEvidence{ck("a", Pass), ck("b", Inconclusive)}, Inconclusive, "prometheus:b",
			"no regression found; prometheus check b: b is inconclusive"},
		{"judge inconclusive keeps its rule", judgeInc, []CheckEvidence{ck("a", Pass)}, Inconclusive, "", "analysing; 1 prometheus checks pass"},
		{"every pending reason", judgeInc, []CheckEvidence{ck("a", Inconclusive), ck("b", Inconclusive)}, Inconclusive, "",
			"analysing; prometheus check a: a is inconclusive; prometheus check b: b is inconclusive"},
	} {
		got := Combine(tc.v, tc.checks)
		if got.Outcome != tc.want || got.Rule != tc.rule || !strings.Contains(got.Reason, tc.reason) {
			t.Errorf("%s: Combine = %s %q %q, want %s %q containing %q", tc.name, got.Outcome, got.Rule, got.Reason, tc.want, tc.rule, tc.reason)
		}
		if diff := cmp.Diff(tc.checks, got.Evidence.Prometheus); diff != "" || got.Evidence.Windows != 3 {
			t.Errorf("%s: evidence lost (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestVerdictWithChecksJSONRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	v := Verdict{Fail, RulePrometheus("err"), "prometheus check err: result +Inf does not satisfy result < 0.01", Evidence{
		Windows: 2, ErrorRatio: &Interval{1, 0.5, math.Inf(1), 0.95},
		Prometheus: []CheckEvidence{{Name: "err", Condition: "result < 0.01", Outcome: Fail, Reason: "x", Query: "sum(y)",
			Last: Fail, Value: "+Inf", At: at, Runs: 4, ConsecutiveFails: 1}},
	}}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back Verdict
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s\n%s", diff, b)
	}
	if !strings.Contains(string(b), `"prometheus":[{"name":"err"`) {
		t.Errorf("JSON %s lacks the prometheus evidence", b)
	}
}
