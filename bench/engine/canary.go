package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cutover/cutover/bench/machine"
	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/loadgen"
)

// benchCanary deploys, under constant load, canaries whose instances fail 5% of requests and
// measures how long until the judge rolls each back and how many requests the bad revision
// served; then a healthy canary, which must be promoted through its steps with no failure.
func benchCanary(ctx context.Context, r *runEnv) ([]Row, error) {
	e, listen, err := r.engineWithRoute(ctx, "canary")
	if err != nil {
		return nil, err
	}
	defer r.stopEngine(e)
	base := svc{Name: "web", Listen: listen, Replicas: r.flags.replicas, Period: 100 * time.Millisecond}
	stable := base
	stable.Version, stable.Strategy = "stable", "rolling: {max_surge: 1}"
	if _, _, err := e.deploy(ctx, stable, time.Minute); err != nil {
		return nil, err
	}
	tally := loadgen.NewTally()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	go func() {
		_, _ = loadgen.Run(loadCtx, loadgen.Config{URL: "http://" + listen + "/", Rate: r.flags.canaryRate, Workers: 1000,
			Duration: 30 * time.Minute}, tally.Add)
	}()
	if err := machine.Sleep(ctx, time.Second); err != nil {
		return nil, err
	}
	var secs []time.Duration
	var served, failed []int64
	for i := range r.flags.canaries {
		bad := base
		bad.Version = fmt.Sprintf("bad-%d", i)
		bad.Env = map[string]string{"ERROR_RATE": "0.05"}
		bad.Strategy = fmt.Sprintf("canary: {steps: [{weight: %d}, {analysis: {duration: 10m}}, {weight: 100}]}", r.flags.canaryWeight)
		before := tally.Snapshot()
		start := time.Now()
		dep, err := e.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: e.yaml(bad), Who: "bench"})
		if err != nil {
			return nil, err
		}
		final, err := e.waitFinal(ctx, dep.ID, 10*time.Minute)
		if err != nil {
			return nil, err
		}
		if final.Status != "rolled_back" {
			return nil, fmt.Errorf("bad canary %d: %s %s, want rolled_back", i, final.Status, final.Reason)
		}
		secs = append(secs, time.Since(start))
		if err := machine.Sleep(ctx, 500*time.Millisecond); err != nil {
			return nil, err
		}
		after := tally.Snapshot()
		served = append(served, after.ByVersion[bad.Version]-before.ByVersion[bad.Version])
		failed = append(failed, after.Failed-before.Failed)
		r.logf("  bad canary %d: rolled back after %s, served %d requests, %d failed: %s", i, ms(secs[i]), served[i], failed[i], final.Reason)
	}
	healthy := base
	healthy.Version = "healthy"
	healthy.Strategy = fmt.Sprintf("canary: {steps: [{weight: %d}, {analysis: {duration: 10s}}, {weight: 50}, {analysis: {duration: 5s}}], analysis: {min_requests: 50}}", r.flags.canaryWeight)
	before := tally.Snapshot()
	_, took, err := e.deploy(ctx, healthy, 5*time.Minute)
	if err != nil {
		return nil, fmt.Errorf("healthy canary: %w", err)
	}
	after := tally.Snapshot()
	return canaryRows(r, secs, served, failed, took, after.Failed-before.Failed), nil
}

func canaryRows(r *runEnv, secs []time.Duration, served, failed []int64, healthyTook time.Duration, healthyFailed int64) []Row {
	note := fmt.Sprintf("%d canaries failing 5%% of requests at a %d%% share, %d req/s, stable 0%% errors", len(secs), r.flags.canaryWeight, r.flags.canaryRate)
	return []Row{
		{Bench: "6 canary", Metric: "deploy → rolled back, median / max", Value: ms(median(secs)) + " / " + ms(quantile(secs, 1)), Target: "< 60 s", Verdict: verdict(quantile(secs, 1) < time.Minute), Note: note},
		{Bench: "6 canary", Metric: "requests served by the bad revision, per canary", Value: fmt.Sprint(served), Note: "of which about 5% failed"},
		{Bench: "6 canary", Metric: "failed requests, per canary", Value: fmt.Sprint(failed), Note: "all from the bad revision (stable serves none)"},
		{Bench: "6 canary", Metric: "healthy canary promoted through its steps in", Value: ms(healthyTook), Note: fmt.Sprintf("steps weight %d, analysis ≤10s, 50, analysis ≤5s, 100; %d failed requests", r.flags.canaryWeight, healthyFailed)},
	}
}
