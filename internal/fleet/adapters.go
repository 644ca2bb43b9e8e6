package fleet

import (
	"context"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/rollout"
)

// The rollout controller's view of the fleet: one small adapter per interface it declares.
var (
	_ rollout.Instances      = Instances{}
	_ rollout.Traffic        = Traffic{}
	_ rollout.Recorder       = Recorder{}
	_ rollout.SwitchRecorder = Recorder{}
	_ rollout.Metrics        = Metrics{}
)

// Instances adapts the fleet to rollout.Instances.
type Instances struct{ s *supervisor }

// Instances returns the fleet as the rollout controller's rollout.Instances.
func (f *Fleet) Instances() Instances { return Instances{f.sup} }

// Observe implements rollout.Instances.
func (a Instances) Observe(_ context.Context, service string) ([]rollout.Instance, error) {
	return a.s.view.observe(service), nil
}

// Start implements rollout.Instances: each instance is recorded before it is started.
func (a Instances) Start(ctx context.Context, service string, revision, count int, deploymentID int64, baseline bool) error {
	return a.s.start(ctx, service, revision, count, deploymentID, baseline)
}

// Stop implements rollout.Instances: the instances leave the proxy at once; draining and
// stopping go on in the background.
func (a Instances) Stop(ctx context.Context, service string, ids []string) error {
	return a.s.stop(ctx, service, ids)
}

// Traffic adapts the fleet's view to rollout.Traffic.
type Traffic struct{ v *view }

// Traffic returns the fleet as the rollout controller's rollout.Traffic.
func (f *Fleet) Traffic() Traffic { return Traffic{f.view} }

// SetWeights implements rollout.Traffic: it records the service's split and swaps the
// proxy's table at once.
func (a Traffic) SetWeights(_ context.Context, service string, weights map[int]int, preview int) error {
	a.v.setWeights(service, weights, preview)
	return nil
}

// Recorder returns the fleet as the rollout controller's rollout.Recorder and
// rollout.SwitchRecorder (record.go).
func (f *Fleet) Recorder() Recorder { return Recorder{parts: f.parts, sup: f.sup} }

// Metrics adapts the proxy's per-revision counters to rollout.Metrics.
type Metrics struct{ p Proxy }

// Metrics returns the proxy's counters as the rollout controller's rollout.Metrics.
func (f *Fleet) Metrics() Metrics { return Metrics{f.proxy} }

// RevisionCounts implements rollout.Metrics: the proxy's counters per revision since the
// daemon started, as the canary judge reads them.
func (a Metrics) RevisionCounts(service string) map[int]analysis.Counts {
	out := map[int]analysis.Counts{}
	for rev, c := range a.p.Stats(service) {
		ac := analysis.Counts{Requests: c.Requests, Errors: c.Errors, Latency: c.Latency}
		for name, e := range c.Endpoints {
			if ac.Endpoints == nil {
				ac.Endpoints = map[string]analysis.Counts{}
			}
			ac.Endpoints[name] = analysis.Counts{Requests: e.Requests, Errors: e.Errors, Latency: e.Latency}
		}
		out[rev] = ac
	}
	return out
}
