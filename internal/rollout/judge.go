package rollout

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/spec"
)

// Metrics reads the proxy's request counters per revision (cumulative since some start), for
// judging a canary against its baseline.
type Metrics interface {
	RevisionCounts(service string) map[int]analysis.Counts
}

// judgeConfig maps a canary spec's analysis to the judge's configuration.
func judgeConfig(a spec.CanaryAnalysis) analysis.Config {
	cfg := analysis.Config{Alpha: a.Alpha, MinRequests: int64(a.MinRequests), TargetRequests: int64(a.TargetRequests),
		MaxErrorRate: a.MaxErrorRate, MaxP99: a.MaxP99.D(), LatencyTolerance: a.LatencyTolerance}
	cfg.SkipErrors = a.Errors != nil && !*a.Errors
	cfg.SkipLatency = a.Latency != nil && !*a.Latency
	return cfg
}

// canaryJudge is a canary deployment's analysis: the judge of the proxy's counters and the
// spec's Prometheus checks. It is used by the one goroutine that drives the deployment.
type canaryJudge struct {
	judge *analysis.Strata
	cfg   analysis.Config
	names []string // the route's endpoints, judged apart as well
	// counted names the Prometheus checks that are sources of counts, judged apart too.
	counted []string
	checks  []*promCheck
	// baseline: the spec asks for a baseline; onBaseline: the judge compares with it.
	baseline, onBaseline bool
}

// promCheck is one Prometheus check with its source and schedule.
type promCheck struct {
	spec   spec.PrometheusCheck
	source *analysis.PrometheusSource
	// broken: why the check cannot ask its Prometheus at all (a credential missing from the
	// service's env, an unreadable CA file): each run is inconclusive with it.
	broken error
	check  *analysis.Check
	due    time.Time // zero: run at the next look
	// canary, stable: a counted check's last counts, read at readAt (zero: never).
	canary, stable analysis.Counts
	readAt         time.Time
}

// JudgeState is what State keeps of a canary's judge: the judge's snapshot and whether it
// compares with the baseline (which it switched to once). Prometheus checks are thresholds,
// not evidence: they start afresh after a restart.
type JudgeState struct {
	OnBaseline bool              `json:"on_baseline,omitempty"`
	Snapshot   analysis.Snapshot `json:"snapshot"`
}

// store writes the judge's evidence into st while the deployment is active.
func (cj *canaryJudge) store(st *State) {
	if cj == nil || !st.Status.Active() {
		st.Judge = nil
		return
	}
	st.Judge = &JudgeState{OnBaseline: cj.onBaseline, Snapshot: cj.judge.Snapshot()}
}

// startMargin starts the judge's margin tests afresh at m (> 0), stops them (m < 0), or
// leaves them (0).
func (cj *canaryJudge) startMargin(m float64) {
	if cj == nil || m == 0 {
		return
	}
	_ = cj.judge.StartMargin(max(m, 0)) // spec.validateRamp keeps margins at 1 or more
}

// resume continues the judgement stored in js (nil: nothing to resume). On an error the judge
// stays fresh: the caller reports that the evidence before the restart is lost.
func (cj *canaryJudge) resume(js *JudgeState) error {
	if cj == nil || js == nil {
		return nil
	}
	j, err := analysis.ResumeStrata(cj.cfg, cj.names, cj.counted, js.Snapshot)
	if err != nil {
		return err
	}
	cj.judge, cj.onBaseline = j, js.OnBaseline
	return nil
}

// newJudge returns the judge of a canary deployment, or nil for other strategies; Drive
// resumes it from the deployment's stored state.
func newJudge(d *Deployment) (*canaryJudge, error) {
	if d.Spec.Strategy.Type != spec.TypeCanary || d.Spec.Strategy.Canary == nil {
		return nil, nil
	}
	a := d.Spec.Strategy.Canary.Analysis
	var names, counted []string
	for _, e := range d.Spec.Route.Endpoints {
		names = append(names, e.Name)
	}
	for _, p := range a.Prometheus {
		if p.Requests != "" {
			counted = append(counted, p.Name)
		}
	}
	j, err := analysis.NewStrata(judgeConfig(a), names, counted)
	if err != nil {
		return nil, fmt.Errorf("canary analysis of deployment %d: %w", d.ID, err)
	}
	cj := &canaryJudge{judge: j, cfg: judgeConfig(a), names: names, counted: counted, baseline: d.Spec.Strategy.Canary.Baseline}
	client := &http.Client{} // one connection pool per deployment; timeouts come from ctx
	for i, p := range a.Prometheus {
		cond := spec.Condition{Op: ">=", Threshold: 0} // a counted check's runs are judged by readCounts
		if p.Requests == "" {
			if cond, err = spec.ParseCondition(p.Condition); err != nil {
				return nil, fmt.Errorf("prometheus check %d of deployment %d: condition: %w", i, d.ID, err)
			}
		}
		chk, err := analysis.NewCheck(analysis.CheckConfig{Name: p.Name, Condition: analysis.Condition(cond),
			FailureLimit: p.FailureLimit, InconclusiveLimit: p.InconclusiveLimit})
		if err != nil {
			return nil, fmt.Errorf("prometheus check %q of deployment %d: %w", p.Name, d.ID, err)
		}
		src, err := promSource(p, d.Spec.Run.Env, client)
		if err != nil {
			err = fmt.Errorf("prometheus check %s cannot ask %s: %w", p.Name, p.URL, err)
		}
		cj.checks = append(cj.checks, &promCheck{spec: p, source: src, broken: err, check: chk})
	}
	return cj, nil
}

// verdict feeds the judge the latest counters of the canary (To) and its baseline (From),
// runs the Prometheus checks that are due, and returns the judge's verdict combined with the
// checks' standings (analysis.Combine): the final one once the current analysis step's time
// is up. Due checks run in parallel, each bounded by its timeout, so a look takes at most the
// longest timeout of the checks it runs.
func (c *Controller) verdict(ctx context.Context, cj *canaryJudge, d *Deployment, now time.Time) *analysis.Verdict {
	return cj.label(c.judgeNow(ctx, cj, d, now), d)
}

// label says in v's evidence what the canary was compared with.
func (cj *canaryJudge) label(v *analysis.Verdict, d *Deployment) *analysis.Verdict {
	if v == nil {
		return nil
	}
	v.Evidence.Compared = fmt.Sprintf("canary revision %d with stable revision %d", d.State.To, d.State.From)
	if cj.onBaseline {
		v.Evidence.Compared = fmt.Sprintf("canary revision %d with a baseline of revision %d (fresh instances at the same share)", d.State.To, d.State.From)
	}
	return v
}

// judgeNow is verdict without its label.
func (c *Controller) judgeNow(ctx context.Context, cj *canaryJudge, d *Deployment, now time.Time) *analysis.Verdict {
	if cj == nil || (c.metrics == nil && len(cj.checks) == 0) {
		return nil
	}
	if c.metrics != nil || len(cj.counted) > 0 {
		counts := map[int]analysis.Counts{}
		if c.metrics != nil {
			counts = c.metrics.RevisionCounts(d.Service)
		}
		addCounted(counts, cj.checks, d.State.To, d.State.From)
		cj.judge.Observe(analysis.Sample{Canary: counts[d.State.To], Baseline: cj.reference(counts, d.State.From)})
	}
	v := cj.judge.Verdict()
	if !d.State.StepDeadline.IsZero() && !now.Before(d.State.StepDeadline) {
		v = cj.judge.Final()
	}
	if len(cj.checks) == 0 {
		return &v
	}
	if !d.State.RollingBack && !d.State.AbortRequested {
		c.runChecks(ctx, cj.checks, d, now)
	}
	evs := make([]analysis.CheckEvidence, len(cj.checks))
	for i, pc := range cj.checks {
		evs[i] = pc.check.Evidence()
	}
	v = analysis.Combine(v, evs)
	return &v
}

// finalVerdict is the judge's last word as a deployment ends: Judge.Final combined with the
// Prometheus checks' standings, so that a promoted canary keeps why it passed (or that there
// was too little traffic to tell) and a rolled-back one its failure. It is nil when nothing
// judges, and for a first deployment, which has nothing to compare with.
func (c *Controller) finalVerdict(cj *canaryJudge, d *Deployment) *analysis.Verdict {
	if cj == nil || d.State.From == 0 || (c.metrics == nil && len(cj.checks) == 0) {
		return nil
	}
	v := cj.judge.Final()
	if len(cj.checks) > 0 {
		evs := make([]analysis.CheckEvidence, len(cj.checks))
		for i, pc := range cj.checks {
			evs[i] = pc.check.Evidence()
		}
		v = analysis.Combine(v, evs)
	}
	return cj.label(&v, d)
}

// reference returns the counters the canary is compared with: the baseline's once the spec
// asks for one and it has served requests, stable's (From) until then (or once the canary has
// failed against stable: that verdict stands). The switch happens
// once and restarts the judge, for the two are different cumulative series; the canary has
// had weighted traffic only alongside its baseline, so little evidence is lost.
func (cj *canaryJudge) reference(counts map[int]analysis.Counts, from int) analysis.Counts {
	if cj.baseline && from != 0 && !cj.onBaseline && counts[BaselineRevision(from)].Requests > 0 &&
		cj.judge.Verdict().Outcome != analysis.Fail {
		if j, err := analysis.NewStrata(cj.cfg, cj.names, cj.counted); err == nil { // cfg was validated by newJudge
			cj.judge, cj.onBaseline = j, true
		}
	}
	if cj.onBaseline {
		return counts[BaselineRevision(from)]
	}
	return counts[from]
}

// runChecks runs the checks due at now in parallel and records their results, unless ctx
// ended meanwhile (a stopping daemon is no verdict on the canary).
func (c *Controller) runChecks(ctx context.Context, checks []*promCheck, d *Deployment, now time.Time) {
	vars := spec.QueryVars{Service: d.Service, Canary: d.State.To, Stable: d.State.From}
	type run struct {
		query string
		value float64
		err   error
		res   *analysis.CheckResult // a counted check's judged read
	}
	runs := make([]*run, len(checks))
	var wg sync.WaitGroup
	for i, pc := range checks {
		if pc.check.Failed() || now.Before(pc.due) {
			continue
		}
		r := &run{query: spec.ExpandQuery(pc.spec.Query, vars)}
		runs[i] = r
		wg.Go(func() {
			qctx, cancel := context.WithTimeout(ctx, pc.spec.Timeout.D())
			defer cancel()
			if pc.broken != nil {
				r.err = pc.broken
				if pc.counted() {
					r.res = &analysis.CheckResult{Outcome: analysis.Inconclusive, Value: math.NaN(), Reason: pc.broken.Error()}
				}
				return
			}
			if pc.counted() {
				q, res := pc.readCounts(qctx, vars, now)
				r.query, r.res = q, &res
				return
			}
			r.value, r.err = pc.source.Query(qctx, r.query)
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	for i, r := range runs {
		if r == nil {
			continue
		}
		pc := checks[i]
		res := analysis.EvaluateCheck(pc.check.Condition(), r.value, r.err)
		if r.res != nil {
			res = *r.res
		}
		pc.check.Record(now, r.query, res)
		pc.due = now.Add(pc.spec.Interval.D())
		c.logger.Debug("prometheus check", "deployment_id", d.ID, "check", pc.spec.Name,
			"outcome", res.Outcome, "reason", res.Reason)
	}
}
