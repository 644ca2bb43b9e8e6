package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/api"
)

// strategyCase is one strategy measured by benchOverhead.
type strategyCase struct {
	label, yaml string
	batches     int
}

// overheadRun is one measured deployment, per batch.
type overheadRun struct {
	overhead time.Duration // (duration − batches × STARTUP_DELAY) / batches
	wait     time.Duration // time waiting on instances beyond STARTUP_DELAY
	engine   time.Duration // the rest: the engine's own work between instances
}

// benchOverhead measures a deployment's duration beyond its app's own start-up: revisions
// whose app sleeps STARTUP_DELAY before listening are deployed with rolling (max_surge 1:
// one batch per replica) and blue-green (one batch), and
// overhead per batch = (duration − batches × STARTUP_DELAY) / batches.
func benchOverhead(ctx context.Context, r *runEnv) ([]Row, error) {
	periods, err := parseDurations(r.flags.periods)
	if err != nil {
		return nil, err
	}
	boot, err := appBootTime(ctx, r.app)
	if err != nil {
		return nil, err
	}
	r.logf("  app exec → listening (no STARTUP_DELAY): median %s", ms(boot))
	e, err := r.engine(ctx, "overhead")
	if err != nil {
		return nil, err
	}
	defer r.stopEngine(e)
	cases := []strategyCase{
		{"rolling", "rolling: {max_surge: 1, max_unavailable: 0}", r.flags.replicas},
		{"blue-green", "blue_green: {scale_down_delay: 1s}", 1},
	}
	var rows []Row
	for _, p := range periods {
		listen, err := freeAddr()
		if err != nil {
			return nil, err
		}
		s := svc{Name: "ovh" + strings.ReplaceAll(p.String(), ".", ""), Listen: listen, Replicas: r.flags.replicas,
			Period: p, Env: map[string]string{"STARTUP_DELAY": r.flags.startupDelay.String()}}
		for _, c := range cases {
			s.Strategy = c.yaml
			runs, err := r.overheadRuns(ctx, e, s, c)
			if err != nil {
				return nil, err
			}
			rows = append(rows, r.overheadRow(c, p, boot, runs))
		}
	}
	return rows, nil
}

// overheadRuns deploys s once to set the stage, then flags.runs times measured.
func (r *runEnv) overheadRuns(ctx context.Context, e *engine, s svc, c strategyCase) ([]overheadRun, error) {
	var runs []overheadRun
	for run := 0; run <= r.flags.runs; run++ {
		s.Version = fmt.Sprintf("%s-%d", c.label, run)
		dep, client, err := e.deploy(ctx, s, 2*time.Minute)
		if err != nil {
			return nil, err
		}
		if run == 0 {
			continue // the first deploy of each kind only sets the stage
		}
		evs, err := e.client.Events(ctx, api.EventQuery{DeploymentID: dep.ID, Limit: 1000}, 0)
		if err != nil {
			return nil, fmt.Errorf("events of deployment %d: %w", dep.ID, err)
		}
		dur := dep.FinishedAt.Sub(dep.CreatedAt)
		n := time.Duration(c.batches)
		waiting := instanceWait(evs, dep.To)
		o := overheadRun{overhead: (dur - n*r.flags.startupDelay) / n,
			wait: (waiting - n*r.flags.startupDelay) / n, engine: (dur - waiting) / n}
		runs = append(runs, o)
		r.logf("  period %-5s %-10s run %d: deployment %s (client %s), overhead/batch %s = readiness wait beyond STARTUP_DELAY %s + engine %s",
			s.Period, c.label, run, ms(dur), ms(client), ms(o.overhead), ms(o.wait), ms(o.engine))
		if r.flags.verbose {
			r.printEvents(dep, evs)
		}
	}
	return runs, nil
}

func (r *runEnv) overheadRow(c strategyCase, period, boot time.Duration, runs []overheadRun) Row {
	var per, wait, eng []time.Duration
	for _, o := range runs {
		per = append(per, o.overhead)
		wait = append(wait, o.wait)
		eng = append(eng, o.engine)
	}
	med := median(per)
	return Row{
		Bench: "2 overhead", Metric: fmt.Sprintf("%s, probe period %s, per batch (median of %d)", c.label, period, len(per)),
		Value: ms(med), Target: "< 100 ms", Verdict: verdict(med < 100*time.Millisecond),
		Note: fmt.Sprintf("%d batch(es) × STARTUP_DELAY %s; range %s–%s; split (medians): %s waiting for readiness beyond STARTUP_DELAY (app exec→listen ≈%s, then the next readiness probe), %s engine",
			c.batches, r.flags.startupDelay, ms(quantile(per, 0)), ms(maxOf(per)), ms(median(wait)), ms(boot), ms(median(eng))),
	}
}

// appBootTime is the median time from exec to accepting connections of the demo app with no
// STARTUP_DELAY, over five starts.
func appBootTime(ctx context.Context, bin string) (time.Duration, error) {
	var ds []time.Duration
	for range 5 {
		t0 := time.Now()
		a, err := startApp(ctx, bin, "boot")
		if err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(t0))
		a.Stop()
	}
	return median(ds), nil
}

// instanceWait is the time during which the deployment waited on instances of revision rev:
// the length of the union of their [instance_started, instance_ready] intervals.
func instanceWait(evs []api.Event, rev int) time.Duration {
	started := map[string]time.Time{}
	type span struct{ from, to time.Time }
	var spans []span
	for _, ev := range evs {
		id, _ := ev.Data["instance"].(string)
		if r, _ := ev.Data["revision"].(float64); id == "" || int(r) != rev {
			continue
		}
		switch ev.Type {
		case "instance_started":
			started[id] = ev.Time
		case "instance_ready":
			if t, ok := started[id]; ok {
				spans = append(spans, span{t, ev.Time})
			}
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from.Compare(b.from) })
	var total time.Duration
	var cur span
	for i, sp := range spans {
		switch {
		case i == 0:
			cur = sp
		case sp.from.After(cur.to):
			total += cur.to.Sub(cur.from)
			cur = sp
		case sp.to.After(cur.to):
			cur.to = sp.to
		}
	}
	if len(spans) > 0 {
		total += cur.to.Sub(cur.from)
	}
	return total
}

// printEvents prints the deployment's events with their offset from its start.
func (r *runEnv) printEvents(dep api.Deployment, evs []api.Event) {
	for _, ev := range evs {
		r.logf("    +%8s %-24s %s", ms(ev.Time.Sub(dep.CreatedAt)), ev.Type, ev.Message)
	}
}

func parseDurations(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("duration %q: want a positive Go duration", f)
		}
		out = append(out, d)
	}
	return out, nil
}
