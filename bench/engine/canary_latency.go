package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/bench/machine"
	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/loadgen"
)

// latencyShape is a demo-app latency distribution: the env of a healthy revision and of one
// twice as slow.
type latencyShape struct {
	name          string
	healthy, slow map[string]string
}

var latencyShapes = []latencyShape{
	{"narrow (20-22 ms uniform, p99/p50 1.05)",
		map[string]string{"LATENCY": "20ms", "LATENCY_JITTER": "2ms"}, map[string]string{"LATENCY": "40ms", "LATENCY_JITTER": "4ms"}},
	{"moderate (log-normal, median 30 ms, sigma 0.2, p99/p50 1.6)",
		map[string]string{"LATENCY": "30ms", "LATENCY_SIGMA": "0.2"}, map[string]string{"LATENCY": "60ms", "LATENCY_SIGMA": "0.2"}},
	{"long-tailed (log-normal, median 20 ms, sigma 1.2, p99/p50 16)",
		map[string]string{"LATENCY": "20ms", "LATENCY_SIGMA": "1.2"}, map[string]string{"LATENCY": "40ms", "LATENCY_SIGMA": "1.2"}},
}

// benchCanaryLatency deploys, under constant load, for each latency shape: canaries twice as
// slow as stable at the canary share, measuring how long until the judge rolls each back and by
// which rule; then one canary as fast as stable, which must be promoted after its analysis.
func benchCanaryLatency(ctx context.Context, r *runEnv) ([]Row, error) {
	var rows []Row
	for i, shape := range latencyShapes {
		got, err := canaryLatencyShape(ctx, r, shape, fmt.Sprintf("canary-latency-%d", i))
		if err != nil {
			return rows, fmt.Errorf("%s: %w", shape.name, err)
		}
		rows = append(rows, got...)
	}
	return rows, nil
}

func canaryLatencyShape(ctx context.Context, r *runEnv, shape latencyShape, name string) ([]Row, error) {
	e, listen, err := r.engineWithRoute(ctx, name)
	if err != nil {
		return nil, err
	}
	defer r.stopEngine(e)
	base := svc{Name: "web", Listen: listen, Replicas: 2, Period: 100 * time.Millisecond}
	stable := base
	stable.Version, stable.Env, stable.Strategy = "stable", shape.healthy, "rolling: {max_surge: 1}"
	if _, _, err := e.deploy(ctx, stable, time.Minute); err != nil {
		return nil, err
	}
	tally := loadgen.NewTally()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	go func() {
		_, _ = loadgen.Run(loadCtx, loadgen.Config{URL: "http://" + listen + "/", Rate: r.flags.latencyRate, Workers: 500,
			Duration: 30 * time.Minute}, tally.Add)
	}()
	if err := machine.Sleep(ctx, time.Second); err != nil {
		return nil, err
	}
	r.logf("  %s", shape.name)
	var secs []time.Duration
	var rules []string
	for i := range r.flags.latencyCanaries {
		slow := base
		slow.Version, slow.Env = fmt.Sprintf("slow-%d", i), shape.slow
		slow.Strategy = fmt.Sprintf("canary: {steps: [{weight: %d}, {analysis: {duration: 5m}}, {weight: 100}], baseline: %t}",
			r.flags.latencyWeight, r.flags.latencyBaseline)
		start := time.Now()
		dep, err := e.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: e.yaml(slow), Who: "bench"})
		if err != nil {
			return nil, err
		}
		final, err := e.waitFinal(ctx, dep.ID, 6*time.Minute)
		if err != nil {
			return nil, err
		}
		took := time.Since(start)
		rule := "-"
		if final.Verdict != nil {
			rule = final.Verdict.Outcome + " " + final.Verdict.Rule
		}
		r.logf("    slow canary %d: %s after %s (%s): %s", i, final.Status, ms(took), rule, final.Reason)
		if final.Status != "rolled_back" {
			return nil, fmt.Errorf("canary twice as slow %d: %s %s, want rolled_back", i, final.Status, final.Reason)
		}
		secs, rules = append(secs, took), append(rules, rule)
		if err := machine.Sleep(ctx, 500*time.Millisecond); err != nil {
			return nil, err
		}
	}
	before := tally.Snapshot()
	var promoted int
	var outcomes []string
	for i := range r.flags.latencyHealthyRuns {
		final, err := healthyLatencyCanary(ctx, r, e, base, shape, i)
		if err != nil {
			return nil, err
		}
		if final.Status == "succeeded" {
			promoted++
		}
		outcomes = append(outcomes, final.Status+" ("+verdictOr(final)+")")
	}
	after := tally.Snapshot()
	note := fmt.Sprintf("%d req/s, canary share %d%%, analysis 5m (slow) / %s (healthy), baseline %t", r.flags.latencyRate, r.flags.latencyWeight,
		r.flags.latencyHealthy, r.flags.latencyBaseline)
	return []Row{
		{Bench: "7 canary latency", Metric: shape.name + ": 2× canary → rolled back, median / max", Value: ms(median(secs)) + " / " + ms(quantile(secs, 1)),
			Target: "< 120 s", Verdict: verdict(quantile(secs, 1) < 2*time.Minute), Note: note + "; verdicts " + strings.Join(rules, ", ")},
		{Bench: "7 canary latency", Metric: shape.name + ": healthy canaries promoted", Value: fmt.Sprintf("%d of %d", promoted, r.flags.latencyHealthyRuns),
			Target: "all (false rollbacks ≤ alpha)", Verdict: verdict(promoted == r.flags.latencyHealthyRuns),
			Note: fmt.Sprintf("%s; %d failed requests", strings.Join(outcomes, ", "), after.Failed-before.Failed)},
	}, nil
}

// healthyLatencyCanary deploys the i-th canary with stable's latency and waits for its end.
func healthyLatencyCanary(ctx context.Context, r *runEnv, e *engine, base svc, shape latencyShape, i int) (api.Deployment, error) {
	healthy := base
	healthy.Version, healthy.Env = fmt.Sprintf("healthy-%d", i), shape.healthy
	healthy.Strategy = fmt.Sprintf("canary: {steps: [{weight: %d}, {analysis: {duration: %s}}, {weight: 100}], analysis: {min_requests: 100}, baseline: %t}",
		r.flags.latencyWeight, r.flags.latencyHealthy, r.flags.latencyBaseline)
	start := time.Now()
	dep, err := e.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: e.yaml(healthy), Who: "bench"})
	if err != nil {
		return api.Deployment{}, err
	}
	final, err := e.waitFinal(ctx, dep.ID, r.flags.latencyHealthy+3*time.Minute)
	if err != nil {
		return api.Deployment{}, fmt.Errorf("healthy canary %d: %w", i, err)
	}
	r.logf("    healthy canary %d: %s after %s (%s): %s", i, final.Status, ms(time.Since(start)), verdictOr(final), final.Reason)
	return final, nil
}

func verdictOr(d api.Deployment) string {
	if d.Verdict == nil {
		return "no verdict"
	}
	return d.Verdict.Outcome + " " + d.Verdict.Rule
}
