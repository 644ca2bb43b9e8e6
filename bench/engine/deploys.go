package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cutover/cutover/bench/machine"
	"github.com/cutover/cutover/internal/loadgen"
)

// benchDeploys measures failed requests at a constant rate during back-to-back deploys that
// alternate rolling and blue-green.
func benchDeploys(ctx context.Context, r *runEnv) ([]Row, error) {
	e, listen, err := r.engineWithRoute(ctx, "deploys")
	if err != nil {
		return nil, err
	}
	defer r.stopEngine(e)
	base := svc{Name: "web", Listen: listen, Replicas: r.flags.replicas, Period: 100 * time.Millisecond,
		Env: map[string]string{"STARTUP_DELAY": "200ms"}}
	first := base
	first.Version, first.Strategy = "v0", rollingYAML
	if _, _, err := e.deploy(ctx, first, time.Minute); err != nil {
		return nil, err
	}

	// Bounded in time and count: at most a minute per deploy plus a margin.
	limit := time.Duration(r.flags.deploys+1) * time.Minute
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	loadDone := make(chan loadgen.Summary, 1)
	go func() {
		// One worker per request of a second in flight: a stall shows as latency, not as
		// requests the generator could not send.
		sum, _ := loadgen.Run(loadCtx, loadgen.Config{URL: "http://" + listen + "/", Rate: r.flags.rate,
			Duration: limit, MaxRequests: r.flags.rate * int(limit/time.Second), Workers: max(loadgen.DefaultWorkers, r.flags.rate)}, nil)
		loadDone <- sum
	}()
	if err := machine.Sleep(ctx, 500*time.Millisecond); err != nil {
		return nil, err
	}
	durs, deployErr := r.deploySeries(ctx, e, base)
	_ = machine.Sleep(ctx, 500*time.Millisecond)
	stopLoad()
	sum := <-loadDone
	r.logf("  load: %s", sum)
	if deployErr != nil {
		return nil, fmt.Errorf("deploys: %w (load so far: %s)", deployErr, sum)
	}
	return r.deploysRows(sum, durs), nil
}

const (
	rollingYAML   = "rolling: {max_surge: 1, max_unavailable: 0}"
	blueGreenYAML = "blue_green: {scale_down_delay: 1s}"
)

// deploySeries deploys flags.deploys new versions one after another, odd ones rolling and
// even ones blue-green, and returns each deployment's duration.
func (r *runEnv) deploySeries(ctx context.Context, e *engine, base svc) ([]time.Duration, error) {
	var durs []time.Duration
	for i := 1; i <= r.flags.deploys; i++ {
		s := base
		s.Version = fmt.Sprintf("v%d", i)
		label := "rolling"
		s.Strategy = rollingYAML
		if i%2 == 0 {
			s.Strategy, label = blueGreenYAML, "blue-green"
		}
		dep, _, err := e.deploy(ctx, s, time.Minute)
		if err != nil {
			return durs, err
		}
		d := dep.FinishedAt.Sub(dep.CreatedAt)
		durs = append(durs, d)
		r.logf("  deploy %2d/%d %-10s %s", i, r.flags.deploys, label, ms(d))
	}
	return durs, nil
}

func (r *runEnv) deploysRows(sum loadgen.Summary, durs []time.Duration) []Row {
	versions := 0
	for v := range sum.ByVersion {
		if v != "" {
			versions++
		}
	}
	b := "1 deploys"
	note := fmt.Sprintf("%d deploys (rolling/blue-green alternating, %d replicas) at %d req/s over %s; %d versions answered",
		r.flags.deploys, r.flags.replicas, r.flags.rate, sum.Elapsed.Round(time.Second), versions)
	return []Row{
		{b, "failed requests", fmt.Sprintf("%d of %d sent", sum.Failed, sum.Sent), "0", verdict(sum.Failed == 0), note + errorsNote(sum)},
		{b, "dropped by generator", fmt.Sprint(sum.GeneratorDropped), "0", verdict(sum.GeneratorDropped == 0), fmt.Sprintf("scheduled but not sent: all %d workers busy (a stall > 1s, or generator overload)", max(loadgen.DefaultWorkers, r.flags.rate))},
		{b, "ok / canceled at stop", fmt.Sprintf("%d / %d", sum.OK, sum.Canceled), "", "", "canceled = in flight when the load was stopped"},
		{b, "latency p50 / p99 / max", fmt.Sprintf("%s / %s / %s", ms(sum.P50), ms(sum.P99), ms(sum.Max)), "", "", "through the proxy, during deploys"},
		{b, "deployment duration median / max", fmt.Sprintf("%s / %s", ms(median(durs)), ms(maxOf(durs))), "", "", "created_at → finished_at, STARTUP_DELAY 200ms, probe period 100ms"},
	}
}

func errorsNote(s loadgen.Summary) string {
	if len(s.Errors) == 0 {
		return ""
	}
	return fmt.Sprintf("; errors %v", s.Errors)
}
