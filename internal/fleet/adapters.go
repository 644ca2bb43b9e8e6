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
type Instances struct{ f *Fleet }

// Instances returns the fleet as the rollout controller's rollout.Instances.
func (f *Fleet) Instances() Instances { return Instances{f} }

// Observe implements rollout.Instances.
func (a Instances) Observe(_ context.Context, service string) ([]rollout.Instance, error) {
	return a.f.observe(service), nil
}

// Start implements rollout.Instances: each instance is recorded before it is started.
func (a Instances) Start(ctx context.Context, service string, revision, count int, deploymentID int64, baseline bool) error {
	return a.f.start(ctx, service, revision, count, deploymentID, baseline)
}

// Stop implements rollout.Instances: the instances leave the proxy at once; draining and
// stopping go on in the background.
func (a Instances) Stop(ctx context.Context, service string, ids []string) error {
	return a.f.stop(ctx, service, ids)
}

// Traffic adapts the fleet to rollout.Traffic.
type Traffic struct{ f *Fleet }

// Traffic returns the fleet as the rollout controller's rollout.Traffic.
func (f *Fleet) Traffic() Traffic { return Traffic{f} }

// SetWeights implements rollout.Traffic: it records the service's split and swaps the
// proxy's table at once.
func (a Traffic) SetWeights(_ context.Context, service string, weights map[int]int, preview int) error {
	a.f.setWeights(service, weights, preview)
	return nil
}

// Recorder adapts the fleet and its store to rollout.Recorder and rollout.SwitchRecorder.
type Recorder struct{ f *Fleet }

// Recorder returns the fleet as the rollout controller's rollout.Recorder.
func (f *Fleet) Recorder() Recorder { return Recorder{f} }

// SaveState implements rollout.Recorder. A deployment that ends is recorded in the same
// transaction as its effect on the service (new stable revision, warm window of the old
// one), then the live view follows.
func (a Recorder) SaveState(ctx context.Context, dep *rollout.Deployment) error {
	return a.f.saveState(ctx, dep)
}

// Event implements rollout.Recorder.
func (a Recorder) Event(ctx context.Context, dep *rollout.Deployment, typ, message string, data map[string]any) {
	a.f.event(ctx, dep.Service, dep.ID, typ, message, data)
}

// RecordSwitch implements rollout.SwitchRecorder.
func (a Recorder) RecordSwitch(ctx context.Context, dep *rollout.Deployment) error {
	return a.f.recordSwitch(ctx, dep)
}

// SwitchDone implements rollout.SwitchRecorder.
func (a Recorder) SwitchDone(ctx context.Context, dep *rollout.Deployment, notes []rollout.Note) error {
	return a.f.switchDone(ctx, dep, notes)
}

// Metrics adapts the proxy's per-revision counters to rollout.Metrics.
type Metrics struct{ f *Fleet }

// Metrics returns the proxy's counters as the rollout controller's rollout.Metrics.
func (f *Fleet) Metrics() Metrics { return Metrics{f} }

// RevisionCounts implements rollout.Metrics: the proxy's counters per revision since the
// daemon started, as the canary judge reads them.
func (a Metrics) RevisionCounts(service string) map[int]analysis.Counts {
	out := map[int]analysis.Counts{}
	for rev, c := range a.f.proxy.Stats(service) {
		out[rev] = analysis.Counts{Requests: c.Requests, Errors: c.Errors, Latency: c.Latency}
	}
	return out
}
