package rollout

import (
	"fmt"
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
		MaxErrorRate: a.MaxErrorRate, MaxP99: a.MaxP99.D()}
	cfg.SkipErrors = a.Errors != nil && !*a.Errors
	cfg.SkipLatency = a.Latency != nil && !*a.Latency
	return cfg
}

// newJudge returns the judge of a canary deployment, or nil for other strategies. A judge
// starts afresh when a deployment is driven again after a restart: it only counts what it
// sees itself, so its guarantee holds from there.
func newJudge(d *Deployment) (*analysis.Judge, error) {
	if d.Spec.Strategy.Type != spec.TypeCanary || d.Spec.Strategy.Canary == nil {
		return nil, nil
	}
	j, err := analysis.New(judgeConfig(d.Spec.Strategy.Canary.Analysis))
	if err != nil {
		return nil, fmt.Errorf("canary analysis of deployment %d: %w", d.ID, err)
	}
	return j, nil
}

// verdict feeds the judge the latest counters of the canary (To) and its baseline (From)
// and returns its verdict: the final one once the current analysis step's time is up.
func (c *Controller) verdict(j *analysis.Judge, d *Deployment, now time.Time) *analysis.Verdict {
	if j == nil || c.metrics == nil {
		return nil
	}
	counts := c.metrics.RevisionCounts(d.Service)
	j.Observe(analysis.Sample{Canary: counts[d.State.To], Baseline: counts[d.State.From]})
	v := j.Verdict()
	if !d.State.StepDeadline.IsZero() && !now.Before(d.State.StepDeadline) {
		v = j.Final()
	}
	return &v
}
