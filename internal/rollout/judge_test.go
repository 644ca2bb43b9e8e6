package rollout

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/promtest"
	"github.com/cutover/cutover/internal/spec"
)

// These tests drive a canary deployment through the real Controller, strategy, judge and
// Prometheus client, with fakes only for the instances, the proxy's counters and the store.
// They use real time with short durations (tick 5ms): the Prometheus checks speak HTTP over
// loopback, whose waits testing/synctest's fake clock cannot see through.

// world fakes the parts the controller drives; it records what the controller did.
type world struct {
	mu      sync.Mutex
	insts   []Instance
	n       int
	weights map[int]int
	states  []State
	canary  analysis.Counts
	base    analysis.Counts
}

func (w *world) Observe(context.Context, string) ([]Instance, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Instance(nil), w.insts...), nil
}

func (w *world) Start(_ context.Context, _ string, rev, count int, _ int64, baseline bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for range count {
		w.n++
		ready := time.Now().Add(-time.Hour)
		w.insts = append(w.insts, Instance{ID: fmt.Sprintf("i%d", w.n), Revision: rev, Ready: true, ReadySince: ready, StartedAt: ready, Baseline: baseline})
	}
	return nil
}

func (w *world) Stop(_ context.Context, _ string, ids []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var keep []Instance
	for _, in := range w.insts {
		if !strings.Contains(strings.Join(ids, ","), in.ID) {
			keep = append(keep, in)
		}
	}
	w.insts = keep
	return nil
}

func (w *world) SetWeights(_ context.Context, _ string, weights map[int]int, _ int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.weights = weights
	return nil
}

func (w *world) SaveState(_ context.Context, d *Deployment) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.states = append(w.states, d.State)
	return nil
}

func (w *world) Event(context.Context, *Deployment, string, string, map[string]any) {}

// RevisionCounts serves 100 more requests to each revision per look, without errors;
// revisions 2 and 3 are both canaries.
func (w *world) RevisionCounts(string) map[int]analysis.Counts {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.canary.Requests += 100
	w.base.Requests += 100
	return map[int]analysis.Counts{1: w.base, 2: w.canary, 3: w.canary}
}

// promServer plays Prometheus: it answers every query with value (a one-element vector) and
// records the queries.
type promServer struct {
	mu      sync.Mutex
	value   string
	queries []string
}

func (p *promServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.queries = append(p.queries, r.FormValue("query"))
	v := p.value
	p.mu.Unlock()
	fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,%q]}]}}`, v)
}

// canaryDeployment is revision 1 → 2 of web (one replica) under a canary with one analysis
// step of dur, judged by errors and the given Prometheus check.
func canaryDeployment(dur time.Duration, check spec.PrometheusCheck) *Deployment {
	s := spec.Service{Name: "web", Replicas: 1, Run: spec.Run{Command: "x"}, Route: spec.Route{Listen: ":1"},
		Strategy: spec.Strategy{Canary: &spec.Canary{
			Steps: []spec.CanaryStep{{Weight: new(50)}, {Analysis: &spec.AnalysisStep{Duration: spec.Duration(dur)}}},
			Analysis: spec.CanaryAnalysis{Latency: new(false), MinRequests: 1,
				Prometheus: []spec.PrometheusCheck{check}},
		}}}
	spec.Default(&s)
	now := time.Now()
	return &Deployment{ID: 7, Service: "web", Spec: s, State: State{Strategy: spec.TypeCanary, From: 1, To: 2, Replicas: 1,
		Status: StatusRunning, Phase: "starting", StartedAt: now, LastProgressAt: now}}
}

// drive runs d until its status is final or paused (then stops it) and returns the world.
func drive(t *testing.T, d *Deployment) *world {
	t.Helper()
	if errs := spec.Validate(&d.Spec); len(errs) > 0 {
		t.Fatalf("test spec invalid: %v", errs)
	}
	w := &world{}
	_ = w.Start(t.Context(), "web", 1, 1, 0, false)
	c := NewController(w, w, w, nil, w, slog.New(slog.NewTextHandler(io.Discard, nil)), Config{Tick: 5 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Drive(ctx, d, nil, nil) }()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Drive: %v (state %+v)", err, d.State)
			}
			return w
		case <-time.After(5 * time.Millisecond):
		}
		w.mu.Lock()
		paused := len(w.states) > 0 && w.states[len(w.states)-1].Status == StatusPaused
		w.mu.Unlock()
		if paused {
			cancel()
			<-done
			return w
		}
	}
}

func check(url string) spec.PrometheusCheck {
	return spec.PrometheusCheck{Name: "errors", URL: url,
		Query:     `sum(rate(http_errors{service="{{service}}",revision="{{canary}}"}[1m])) / sum(rate(http_requests{revision="{{revision}}"}[1m])) - 0*{{stable}}`,
		Condition: "result < 0.01", Interval: spec.Duration(100 * time.Millisecond), Timeout: spec.Duration(time.Second)}
}

func last(w *world) State {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.states[len(w.states)-1]
}

func TestPrometheusCheckFailRollsBack(t *testing.T) {
	p := &promServer{value: "0.034"}
	srv := httptest.NewServer(p)
	defer srv.Close()
	d := canaryDeployment(time.Minute, check(srv.URL))
	w := drive(t, d)
	st := last(w)
	if st.Status != StatusRolledBack || st.Verdict == nil || st.Verdict.Outcome != analysis.Fail {
		t.Fatalf("final state %s with verdict %+v, want rolled_back on a fail verdict", st.Status, st.Verdict)
	}
	if st.Verdict.Rule != "prometheus:errors" {
		t.Errorf("verdict rule = %q, want prometheus:errors", st.Verdict.Rule)
	}
	wantQuery := `sum(rate(http_errors{service="web",revision="2"}[1m])) / sum(rate(http_requests{revision="2"}[1m])) - 0*1`
	for _, want := range []string{"result 0.034 does not satisfy result < 0.01", wantQuery, "failure_limit 0"} {
		if !strings.Contains(st.Reason, want) {
			t.Errorf("reason %q lacks %q", st.Reason, want)
		}
	}
	if ev := st.Verdict.Evidence.Prometheus; len(ev) != 1 || ev[0].Value != "0.034" || ev[0].Query != wantQuery {
		t.Errorf("verdict evidence = %+v, want the check with value 0.034 and the query sent", ev)
	}
	if w.weights[2] != 0 || w.weights[1] != 100 {
		t.Errorf("weights after rollback = %v, want all on revision 1", w.weights)
	}
}

func TestPrometheusCheckPassPromotesAtItsInterval(t *testing.T) {
	p := &promServer{value: "0.001"}
	srv := httptest.NewServer(p)
	defer srv.Close()
	const dur = 500 * time.Millisecond
	start := time.Now()
	w := drive(t, canaryDeployment(dur, check(srv.URL)))
	elapsed := time.Since(start)
	st := last(w)
	if st.Status != StatusSucceeded || st.Verdict == nil || st.Verdict.Outcome != analysis.Pass {
		t.Fatalf("final state %s (%s) with verdict %+v, want succeeded on a pass", st.Status, st.Reason, st.Verdict)
	}
	if !strings.Contains(st.Verdict.Reason, "1 prometheus checks pass") {
		t.Errorf("pass reason %q does not mention the prometheus check", st.Verdict.Reason)
	}
	p.mu.Lock()
	n := len(p.queries)
	p.mu.Unlock()
	// One check per 100ms interval, not one per 5ms tick.
	if maxN := int(elapsed/(100*time.Millisecond)) + 2; n < 3 || n > maxN {
		t.Errorf("prometheus saw %d queries in %v, want 3 to %d (one per interval)", n, elapsed, maxN)
	}
}

func TestPrometheusUnreachableIsInconclusive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	for _, policy := range []string{spec.InconclusivePause, spec.InconclusiveFail, spec.InconclusivePass} {
		t.Run(policy, func(t *testing.T) {
			d := canaryDeployment(300*time.Millisecond, check(url))
			d.Spec.Strategy.Canary.Analysis.Inconclusive = policy
			st := last(drive(t, d))
			if st.Verdict == nil || st.Verdict.Outcome != analysis.Inconclusive || st.Verdict.Rule != "prometheus:errors" {
				t.Fatalf("verdict %+v, want inconclusive by prometheus:errors", st.Verdict)
			}
			if !strings.Contains(st.Verdict.Reason, "unreachable") {
				t.Errorf("verdict reason %q does not say prometheus is unreachable", st.Verdict.Reason)
			}
			want := map[string]Status{spec.InconclusivePause: StatusPaused, spec.InconclusiveFail: StatusRolledBack,
				spec.InconclusivePass: StatusSucceeded}[policy]
			if st.Status != want {
				t.Errorf("status %s (%s), want %s: the step's inconclusive setting applies", st.Status, st.Reason, want)
			}
			if policy != spec.InconclusivePass && !strings.Contains(st.Reason, "unreachable") {
				t.Errorf("deployment reason %q does not say why", st.Reason)
			}
		})
	}
}

// TestRealPrometheusJudgesCanary drives two canaries judged by a real Prometheus (see
// scripts/install-prometheus) that scrapes an exporter run by the test: revision 2's error
// ratio breaks the condition and is rolled back, revision 3's meets it and is promoted.
func TestRealPrometheusJudgesCanary(t *testing.T) {
	base, run := realPrometheus(t, "# TYPE app_error_ratio gauge\n"+
		"app_error_ratio{revision=\"2\"} 0.05\napp_error_ratio{revision=\"3\"} 0.001\n")
	chk := check(base)
	chk.Query = fmt.Sprintf(`max(app_error_ratio{cutover_test_run=%q,revision="{{canary}}"})`, run)
	for _, tc := range []struct {
		to   int
		want Status
		out  analysis.Outcome
	}{{2, StatusRolledBack, analysis.Fail}, {3, StatusSucceeded, analysis.Pass}} {
		t.Run(fmt.Sprint("revision ", tc.to), func(t *testing.T) {
			d := canaryDeployment(500*time.Millisecond, chk)
			d.State.To = tc.to
			st := last(drive(t, d))
			if st.Status != tc.want || st.Verdict == nil || st.Verdict.Outcome != tc.out {
				t.Fatalf("status %s (%s), verdict %+v; want %s on %s", st.Status, st.Reason, st.Verdict, tc.want, tc.out)
			}
			if ev := st.Verdict.Evidence.Prometheus; len(ev) != 1 || ev[0].Outcome != tc.out || ev[0].Runs == 0 {
				t.Errorf("prometheus evidence %+v, want one %s check", ev, tc.out)
			}
		})
	}
}

// realPrometheus makes the test Prometheus of scripts/install-prometheus scrape metrics (text
// format, served on 127.0.0.1:0) under the label cutover_test_run=<run>, and waits for the
// first scrape. It skips when the server is missing, except under CI, where it fails.
func realPrometheus(t *testing.T, metrics string) (base, run string) {
	t.Helper()
	base, targets := promtest.Require(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, metrics) }))
	t.Cleanup(srv.Close)
	run = fmt.Sprintf("rollout-%d", time.Now().UnixNano())
	file := filepath.Join(targets, run+".json")
	sd := fmt.Sprintf(`[{"targets":[%q],"labels":{"cutover_test_run":%q}}]`, strings.TrimPrefix(srv.URL, "http://"), run)
	if err := os.WriteFile(file+".tmp", []byte(sd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(file) })
	src := analysis.NewPrometheusSource(base, nil)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		v, err := src.Query(t.Context(), fmt.Sprintf(`count(up{cutover_test_run=%q} == 1)`, run))
		if err == nil && v == 1 {
			return base, run
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus at %s did not scrape the test target within 30s: %v, %v", base, v, err)
		}
	}
}

// TestPromotedCanaryKeepsFinalVerdict: a canary promoted through weight steps with no
// analysis step at the end keeps the judge's final verdict (a pass on min_requests, with its
// counts), not the last "analysing" one.
func TestPromotedCanaryKeepsFinalVerdict(t *testing.T) {
	s := spec.Service{Name: "web", Replicas: 1, Run: spec.Run{Command: "x"}, Route: spec.Route{Listen: ":1"},
		Strategy: spec.Strategy{Canary: &spec.Canary{
			Steps:    []spec.CanaryStep{{Weight: new(50)}, {Pause: new(spec.Duration(50 * time.Millisecond))}, {Weight: new(100)}},
			Analysis: spec.CanaryAnalysis{Latency: new(false), MinRequests: 1},
		}}}
	spec.Default(&s)
	now := time.Now()
	d := &Deployment{ID: 8, Service: "web", Spec: s, State: State{Strategy: spec.TypeCanary, From: 1, To: 2, Replicas: 1,
		Status: StatusRunning, Phase: "starting", StartedAt: now, LastProgressAt: now}}
	st := last(drive(t, d))
	if st.Status != StatusSucceeded || st.Verdict == nil {
		t.Fatalf("final state %s (%s) with verdict %+v, want succeeded with a verdict", st.Status, st.Reason, st.Verdict)
	}
	if v := st.Verdict; v.Outcome != analysis.Pass || v.Rule != analysis.RuleMinRequests || v.Evidence.Canary.Requests == 0 {
		t.Errorf("final verdict %s %s (%s), canary requests %d; want a pass on min_requests with counts",
			v.Outcome, v.Rule, v.Reason, v.Evidence.Canary.Requests)
	}
}

// TestJudgeResumesAfterRestart: a canary deployment driven until its analysis pauses, its
// state stored as JSON and driven again by a new controller (a restarted daemon, whose proxy
// counters start from zero) ends with a verdict that counts the requests of both runs.
func TestJudgeResumesAfterRestart(t *testing.T) {
	s := spec.Service{Name: "web", Replicas: 1, Run: spec.Run{Command: "x"}, Route: spec.Route{Listen: ":1"},
		Strategy: spec.Strategy{Canary: &spec.Canary{
			Steps:    []spec.CanaryStep{{Weight: new(50)}, {Analysis: &spec.AnalysisStep{Duration: spec.Duration(100 * time.Millisecond)}}},
			Analysis: spec.CanaryAnalysis{Latency: new(false), MinRequests: 1 << 40},
		}}}
	spec.Default(&s)
	now := time.Now()
	d := &Deployment{ID: 9, Service: "web", Spec: s, State: State{Strategy: spec.TypeCanary, From: 1, To: 2, Replicas: 1,
		Status: StatusRunning, Phase: "starting", StartedAt: now, LastProgressAt: now}}
	first := last(drive(t, d))
	if first.Status != StatusPaused || first.Judge == nil || first.Judge.Snapshot.Canary[0] == 0 {
		t.Fatalf("first run: status %s, judge %+v; want paused with stored evidence", first.Status, first.Judge)
	}
	before := first.Judge.Snapshot.Canary[0]
	b, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	d.State = State{}
	if err := json.Unmarshal(b, &d.State); err != nil {
		t.Fatal(err)
	}
	d.State.Status, d.State.Approved = StatusRunning, true // promote past the paused analysis
	st := last(drive(t, d))
	if st.Status != StatusSucceeded || st.Verdict == nil || st.Judge != nil {
		t.Fatalf("second run: status %s (%s), verdict %+v, judge kept %v; want succeeded with a verdict", st.Status, st.Reason, st.Verdict, st.Judge != nil)
	}
	if got, want := analysis.Describe(*st.Verdict), "over "; !strings.Contains(got, "canary revision 2 with stable revision 1 over ") ||
		!strings.Contains(got, "judged across 1 daemon restart") {
		t.Errorf("Describe = %q; want what was compared%s how many requests, and the restart", got, want)
	}
	if ev := st.Verdict.Evidence; ev.Resumes != 1 || ev.Canary.Requests <= before {
		t.Errorf("final evidence: %d resumes, %d canary requests; want 1 resume and more than the %d before the restart",
			ev.Resumes, ev.Canary.Requests, before)
	}
}
