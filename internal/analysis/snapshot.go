package analysis

import (
	"errors"
	"fmt"
	"math"
)

// Snapshot is a Judge's evidence in a form that is stored with the deployment (JSON) and read
// back by Resume: the counts since the analysis began, the e-processes' values per grid point,
// the latency tests' counts and histograms, and a failure that stands. It holds no reading of
// the proxy's counters: those restart with the process, so a resumed judge takes its next
// sample as a new starting point, and the requests between the last snapshot and that sample
// are not judged (left out for a reason unrelated to their outcome, which keeps the tests
// valid). The e-processes continue from their stored values, so alpha bounds false rollbacks
// per deployment however many times the judge is resumed.
type Snapshot struct {
	Windows  int      `json:"windows"`
	Resets   int      `json:"resets,omitempty"`
	Resumes  int      `json:"resumes,omitempty"`
	Canary   [2]int64 `json:"canary"`   // requests, errors
	Baseline [2]int64 `json:"baseline"` // requests, errors
	// CanaryHist and BaselineHist are the latency histograms since the start, sparse: pairs
	// of bucket index and count.
	CanaryHist   []int64 `json:"canary_hist,omitempty"`
	BaselineHist []int64 `json:"baseline_hist,omitempty"`
	// Errors, Latency and Limit are the log likelihood ratios per grid point of the error
	// test, of the median's and tail quantile's tests, and of max_p99's.
	Errors  []float64       `json:"errors"`
	Latency []QuantileState `json:"latency"`
	Limit   *LimitState     `json:"limit,omitempty"`
	Failed  *Verdict        `json:"failed,omitempty"`
	// Margin holds an evidence-paced ramp's margin tests at the current share, when on.
	Margin *MarginState `json:"margin,omitempty"`
	// Endpoints are the endpoints' judges, by name, in a Strata's snapshot.
	Endpoints map[string]Snapshot `json:"endpoints,omitempty"`
}

// QuantileState is one latency test in a Snapshot.
type QuantileState struct {
	Started       bool      `json:"started"`
	Base          int       `json:"base"`
	Canary        int       `json:"canary"`
	SlowBaseline  int64     `json:"slow_baseline"`
	SlowCanary    int64     `json:"slow_canary"`
	JudgedBase    int64     `json:"judged_baseline"`
	JudgedCanary  int64     `json:"judged_canary"`
	LogLikelihood []float64 `json:"log_likelihood"`
}

// MarginState is the margin tests in a Snapshot: the margin, the canary's requests since
// they started, and for the error test then the two latency tests, each its log likelihood
// ratios, its events (canary's, baseline's) and whether it has begun.
type MarginState struct {
	Margin   float64           `json:"margin"`
	Requests int64             `json:"requests"`
	Tests    []MarginTestState `json:"tests"`
}

// MarginTestState is one margin test in a MarginState.
type MarginTestState struct {
	Started       bool      `json:"started,omitempty"`
	Events        [2]int64  `json:"events"`
	LogLikelihood []float64 `json:"log_likelihood"`
}

// LimitState is the max_p99 test in a Snapshot.
type LimitState struct {
	Slow          int64     `json:"slow"`
	Requests      int64     `json:"requests"`
	LogLikelihood []float64 `json:"log_likelihood"`
}

// Snapshot returns the judge's evidence for storing; it shares nothing with the judge.
func (j *Judge) Snapshot() Snapshot {
	s := Snapshot{Windows: j.ev.Windows, Resets: j.ev.Resets, Resumes: j.ev.Resumes,
		Canary:     [2]int64{j.ev.Canary.Requests, j.ev.Canary.Errors},
		Baseline:   [2]int64{j.ev.Baseline.Requests, j.ev.Baseline.Errors},
		CanaryHist: sparse(j.canaryH), BaselineHist: sparse(j.baseH),
		Errors: append([]float64(nil), j.errs.logL[:]...), Latency: make([]QuantileState, len(j.lat))}
	for i, t := range j.lat {
		s.Latency[i] = QuantileState{Started: t.started, Base: t.base, Canary: t.canary,
			SlowBaseline: t.slowB, SlowCanary: t.slowC, JudgedBase: t.judgedB, JudgedCanary: t.judgedC,
			LogLikelihood: append([]float64(nil), t.m.logL[:]...)}
	}
	if j.cfg.MaxP99 > 0 {
		s.Limit = &LimitState{Slow: j.limit.slow, Requests: j.limit.reqs,
			LogLikelihood: append([]float64(nil), j.limit.m.logL[:]...)}
	}
	if j.failed != nil {
		v := *j.failed
		s.Failed = &v
	}
	if mg := j.margin; mg != nil {
		s.Margin = &MarginState{Margin: mg.m, Requests: mg.requests}
		for _, t := range []*marginTest{&mg.errs, &mg.lat[0], &mg.lat[1]} {
			s.Margin.Tests = append(s.Margin.Tests, MarginTestState{Started: t.started, Events: t.events,
				LogLikelihood: append([]float64(nil), t.logL[:]...)})
		}
	}
	return s
}

// restoreMargin loads the margin tests of s, when there are any.
func (j *Judge) restoreMargin(s *MarginState) error {
	if s == nil {
		return nil
	}
	if err := j.StartMargin(s.Margin); err != nil || s.Requests < 0 || len(s.Tests) != 3 {
		return fmt.Errorf("margin tests: margin %v, %d canary requests, %d tests", s.Margin, s.Requests, len(s.Tests))
	}
	mg := j.margin
	mg.requests = s.Requests
	for i, t := range []*marginTest{&mg.errs, &mg.lat[0], &mg.lat[1]} {
		st := s.Tests[i]
		if len(st.LogLikelihood) != marginGrid || st.Events[0] < 0 || st.Events[1] < 0 {
			return fmt.Errorf("margin test %d: %d grid values, events %v", i, len(st.LogLikelihood), st.Events)
		}
		for k, x := range st.LogLikelihood {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("margin test %d: grid value %d is %v", i, k, x)
			}
			t.logL[k] = x
		}
		t.started, t.events = st.Started, st.Events
	}
	return nil
}

// Resume returns a Judge for cfg that continues from s, or an error naming what in s does not
// fit cfg (another histogram layout, a grid of another size, a value out of range). Its next
// sample is a starting point; Evidence.Resumes counts the resumptions.
func Resume(cfg Config, s Snapshot) (*Judge, error) {
	j, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if err := j.restore(s); err != nil {
		return nil, fmt.Errorf("resume judge: %w", err)
	}
	j.ev.Resumes++
	return j, nil
}

// restore loads s into a fresh judge.
func (j *Judge) restore(s Snapshot) error {
	if s.Windows < 0 || s.Resets < 0 || s.Resumes < 0 || !counts(s.Canary) || !counts(s.Baseline) {
		return errors.New("negative or inconsistent counts")
	}
	j.ev.Windows, j.ev.Resets, j.ev.Resumes = s.Windows, s.Resets, s.Resumes
	j.ev.Canary.Requests, j.ev.Canary.Errors = s.Canary[0], s.Canary[1]
	j.ev.Baseline.Requests, j.ev.Baseline.Errors = s.Baseline[0], s.Baseline[1]
	n := len(j.cfg.LatencyBounds) + 1
	var err error
	if j.canaryH, err = dense(s.CanaryHist, n); err != nil {
		return fmt.Errorf("canary histogram: %w", err)
	}
	if j.baseH, err = dense(s.BaselineHist, n); err != nil {
		return fmt.Errorf("baseline histogram: %w", err)
	}
	if j.baseH != nil {
		j.baseN = total(j.baseH)
		j.baseLo = firstNonEmpty(j.baseH)
	}
	if err := loadGrid(&j.errs, s.Errors); err != nil {
		return fmt.Errorf("error test: %w", err)
	}
	if err := j.restoreLatency(s.Latency); err != nil {
		return err
	}
	if (s.Limit != nil) != (j.cfg.MaxP99 > 0) {
		return errors.New("max_p99 test present in one of the snapshot and the configuration only")
	}
	if s.Limit != nil {
		j.limit.slow, j.limit.reqs = s.Limit.Slow, s.Limit.Requests
		if err := loadGrid(&j.limit.m, s.Limit.LogLikelihood); err != nil {
			return fmt.Errorf("max_p99 test: %w", err)
		}
	}
	if s.Failed != nil {
		v := *s.Failed
		j.failed = &v
	}
	return j.restoreMargin(s.Margin)
}

// restoreLatency loads the latency tests.
func (j *Judge) restoreLatency(ls []QuantileState) error {
	if len(ls) != len(j.lat) {
		return fmt.Errorf("%d latency tests, want %d", len(ls), len(j.lat))
	}
	nb := len(j.cfg.LatencyBounds)
	for i, l := range ls {
		t := &j.lat[i]
		if l.Base < 0 || l.Base >= nb || l.Canary < l.Base || l.Canary > nb {
			return fmt.Errorf("latency test %d: thresholds %d, %d out of range", i, l.Base, l.Canary)
		}
		t.started, t.base, t.canary = l.Started, l.Base, l.Canary
		t.baseBound, t.canBound = j.cfg.LatencyBounds[l.Base], boundOrMax(j.cfg.LatencyBounds, l.Canary)
		t.slowB, t.slowC, t.judgedB, t.judgedC = l.SlowBaseline, l.SlowCanary, l.JudgedBase, l.JudgedCanary
		if err := loadGrid(&t.m, l.LogLikelihood); err != nil {
			return fmt.Errorf("latency test %d: %w", i, err)
		}
	}
	return nil
}

// counts reports whether a [requests, errors] pair is consistent.
func counts(c [2]int64) bool { return c[0] >= 0 && c[1] >= 0 && c[1] <= c[0] }

// loadGrid sets m's log likelihoods from l, which must have one finite value per grid point.
func loadGrid(m *mixture, l []float64) error {
	if len(l) != gridSize {
		return fmt.Errorf("%d grid values, want %d", len(l), gridSize)
	}
	for k, x := range l {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("grid value %d is %v", k, x)
		}
		m.logL[k] = x
	}
	m.fresh = false
	return nil
}

// sparse encodes a histogram as pairs of bucket index and non-zero count.
func sparse(h []int64) []int64 {
	var out []int64
	for i, c := range h {
		if c != 0 {
			out = append(out, int64(i), c)
		}
	}
	return out
}

// dense decodes sparse pairs into a histogram of n buckets; nil for nil.
func dense(pairs []int64, n int) ([]int64, error) {
	if pairs == nil {
		return nil, nil
	}
	if len(pairs)%2 != 0 {
		return nil, errors.New("odd number of values")
	}
	h := make([]int64, n)
	for k := 0; k < len(pairs); k += 2 {
		i, c := pairs[k], pairs[k+1]
		if i < 0 || i >= int64(n) || c < 0 {
			return nil, fmt.Errorf("bucket %d count %d out of range", i, c)
		}
		h[i] += c
	}
	return h, nil
}

// firstNonEmpty is the index of h's first non-zero bucket, len(h) when none is.
func firstNonEmpty(h []int64) int {
	for i, c := range h {
		if c != 0 {
			return i
		}
	}
	return len(h)
}
