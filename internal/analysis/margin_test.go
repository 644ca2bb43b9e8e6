package analysis

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// marginRun feeds a judge with margin m windows of 100 requests at share p, the canary's
// errors rho times the baseline's rate base, until its margin test on errors shows the canary
// within m or n windows pass; it returns the window at which it did (-1: never; -2: the
// judge failed the canary first, a false alarm for rho <= 1, and its evidence stood still).
func marginRun(m, rho, base, p float64, n int, seed uint64) int {
	r := rand.New(rand.NewPCG(seed, 77))
	j, _ := New(Config{SkipLatency: true, Alpha: 0.05})
	_ = j.StartMargin(m)
	var s Sample
	j.Observe(s)
	for w := 1; w <= n; w++ {
		for range 100 {
			c, rate := &s.Baseline, base
			if r.Float64() < p {
				c, rate = &s.Canary, rho*base
			}
			c.Requests++
			if r.Float64() < rate {
				c.Errors++
			}
		}
		j.Observe(s)
		v := j.Verdict()
		if v.Outcome == Fail {
			return -2
		}
		if ev := v.Evidence.Margin; ev != nil && ev.Errors.Shown {
			return w
		}
	}
	return -1
}

// TestMarginValidUnderContinuousLooks: a canary whose errors are exactly margin times
// stable's is shown "within the margin" in at most alpha of the runs, although the test is
// looked at after every window for 2,000 windows (400 runs; alpha + 3 standard errors).
func TestMarginValidUnderContinuousLooks(t *testing.T) {
	const alpha = 0.05
	runs := 400.0
	if raceEnabled {
		runs = 100
	}
	shown := 0
	for seed := range uint64(runs) {
		if marginRun(2, 2, 0.02, 0.2, 2000, seed) >= 0 {
			shown++
		}
	}
	if bound := alpha + 3*math.Sqrt(alpha*(1-alpha)/runs); float64(shown)/runs > bound {
		t.Errorf("canary at the margin shown within it in %d of %.0f runs, want at most %.1f%%", shown, runs, 100*bound)
	}
	t.Logf("at the margin: shown within it in %d of %.0f runs", shown, runs)
}

// TestMarginShowsHealthyCanary: a canary as good as stable is shown within margin 2 in every
// run that the judge did not fail (a false alarm, at most a few), and sooner with a larger
// share.
func TestMarginShowsHealthyCanary(t *testing.T) {
	var at [2][]int
	for i, p := range []float64{0.05, 0.25} {
		for seed := range uint64(50) {
			w := marginRun(2, 1, 0.02, p, 3000, seed)
			if w == -2 {
				continue
			}
			if w < 0 {
				t.Fatalf("share %v, seed %d: a healthy canary never shown within margin 2", p, seed)
			}
			at[i] = append(at[i], w)
		}
	}
	m5, m25 := medianInt(at[0]), medianInt(at[1])
	if m25 >= m5 {
		t.Errorf("median windows to show the margin: %d at 5%%, %d at 25%%; want fewer at the larger share", m5, m25)
	}
	t.Logf("median windows of 100 requests to show margin 2 at 2%% errors: %d at a 5%% share, %d at 25%%", m5, m25)
}

func medianInt(xs []int) int {
	s := append([]int(nil), xs...)
	for i := range s {
		for k := i + 1; k < len(s); k++ {
			if s[k] < s[i] {
				s[i], s[k] = s[k], s[i]
			}
		}
	}
	return s[len(s)/2]
}

// TestMarginEvidenceAndResume: the margin tests' evidence (errors and both latency tests)
// survives a snapshot, StartMargin starts them afresh, and Within needs every test that is on.
func TestMarginEvidenceAndResume(t *testing.T) {
	cfg := Config{}
	j, _ := New(cfg)
	if err := j.StartMargin(1); err == nil {
		t.Error("StartMargin(1) accepted; a margin must be above 1")
	}
	_ = j.StartMargin(2)
	for _, sm := range narrowWindows(3, 300, 21*time.Millisecond, 21*time.Millisecond) { // healthy, no errors
		j.Observe(sm)
	}
	ev := j.Verdict().Evidence.Margin
	if ev == nil || ev.Errors == nil || len(ev.Latency) != 2 || ev.CanaryRequests == 0 {
		t.Fatalf("margin evidence %+v, want errors and two latency tests", ev)
	}
	if !ev.Errors.NoEvents() || !ev.Within() {
		t.Errorf("no errors and latency shown: within should hold: %+v", ev)
	}
	raw, _ := json.Marshal(j.Snapshot())
	var snap Snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		t.Fatal(err)
	}
	r, err := Resume(cfg, snap)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Verdict().Evidence.Margin; got == nil || got.CanaryRequests != ev.CanaryRequests || got.Latency[1].EValue != ev.Latency[1].EValue {
		t.Errorf("resumed margin evidence %+v, want %+v", got, ev)
	}
	_ = r.StartMargin(2)
	if got := r.Verdict().Evidence.Margin; got.CanaryRequests != 0 || got.Within() {
		t.Errorf("restarted margin evidence %+v, want empty and not within", got)
	}
	bad := MarginEvidence{Errors: &MarginPart{CanaryEvents: 3, EValue: 0.5}, Latency: []MarginPart{{Shown: true}}}
	if bad.Within() {
		t.Error("errors not shown but within")
	}
}
