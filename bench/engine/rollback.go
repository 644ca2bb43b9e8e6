package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cutover/cutover/bench/machine"
	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/store"
)

// rollbackRun is one measured rollback.
type rollbackRun struct {
	call    time.Duration // the API call, request to response
	visible time.Duration // request sent → the loop sees only the old version (upper bound)
	inside  time.Duration // the daemon's own timing of its SetWeights (event data switch_us)
	wrong   int           // requests started after the call returned that reached another version
	// Offsets from sending the request, by the daemon's wall clock, of the times the daemon
	// stamped on the deployment row (created, last updated: committed before the switch) and
	// on the event that carries the switch's timing (recorded after it).
	created, saved, evented time.Duration
}

// benchRollback measures `cutover rollback` inside blue-green's warm window: deploy forward
// with blue-green, roll back to the revision it replaced through the API client, and time
// the call and the moment a tight request loop sees only the old version. Every other
// rollback runs without the loop, to show what the loop's CPU costs the daemon.
func benchRollback(ctx context.Context, r *runEnv) ([]Row, error) {
	e, listen, err := r.engineWithRoute(ctx, "rollback")
	if err != nil {
		return nil, err
	}
	defer r.stopEngine(e)
	s := svc{Name: "rb", Listen: listen, Replicas: r.flags.replicas, Period: 200 * time.Millisecond,
		Strategy: "blue_green: {scale_down_delay: 20s}"}
	s.Version = "v0"
	first, _, err := e.deploy(ctx, s, time.Minute)
	if err != nil {
		return nil, err
	}
	versions := map[int]string{first.To: s.Version}
	var loaded, quiet []rollbackRun
	for i := 1; i <= 2*r.flags.rollbacks; i++ {
		s.Version = fmt.Sprintf("v%d", i)
		dep, _, err := e.deploy(ctx, s, time.Minute)
		if err != nil {
			return nil, err
		}
		versions[dep.To] = s.Version
		withLoop := i%2 == 1
		run, err := measureRollback(ctx, e, "http://"+listen+"/", dep, versions[dep.From], withLoop)
		if err != nil {
			return nil, fmt.Errorf("rollback %d: %w", i, err)
		}
		if withLoop {
			loaded = append(loaded, run)
			r.logf("  rollback %2d under the loop: api call %s, only old version seen after %s, daemon switch %s, wrong %d | deployment row +%s, its last update +%s, event row +%s",
				i, ms(run.call), ms(run.visible), us(run.inside), run.wrong, ms(run.created), ms(run.saved), ms(run.evented))
		} else {
			quiet = append(quiet, run)
			r.logf("  rollback %2d no loop:       api call %s, daemon switch %s | deployment row +%s, its last update +%s, event row +%s",
				i, ms(run.call), us(run.inside), ms(run.created), ms(run.saved), ms(run.evented))
		}
	}
	if svcNow, err := e.client.Service(ctx, "rb"); err == nil {
		r.logf("  instances running at the end: %d (warm windows of 20s overlap)", len(svcNow.Instances))
	}
	commit, err := commitCost(ctx, r.dir)
	if err != nil {
		return nil, err
	}
	r.logf("  one SQLite write transaction (AddEvent, synchronous=FULL) on this disk: median %s, p99 %s", ms(commit[0]), ms(commit[1]))
	return rollbackRows(loaded, quiet, commit), nil
}

// measureRollback rolls the service back from dep.To to dep.From, under a tight loop of one
// worker when withLoop.
func measureRollback(ctx context.Context, e *engine, url string, dep api.Deployment, oldVersion string, withLoop bool) (rollbackRun, error) {
	if err := machine.Sleep(ctx, 200*time.Millisecond); err != nil {
		return rollbackRun{}, err
	}
	base := time.Now()
	workers := 0
	if withLoop {
		workers = 1
	}
	loop, err := startLoop(ctx, url, workers, 1<<18, 30*time.Second, base)
	if err != nil {
		return rollbackRun{}, err
	}
	_ = machine.Sleep(ctx, 50*time.Millisecond)
	t0 := time.Since(base)
	wall0 := time.Now()
	rb, err := e.client.Rollback(ctx, dep.Service, api.RollbackRequest{To: dep.From, Who: "bench"})
	t1 := time.Since(base)
	_ = machine.Sleep(ctx, 100*time.Millisecond)
	samples := loop.stop()
	if err != nil {
		return rollbackRun{}, err
	}
	if rb.Strategy != "switch" {
		return rollbackRun{}, fmt.Errorf("rollback to %d was a %s deployment, not a switch: the old revision was not warm", dep.From, rb.Strategy)
	}
	run := rollbackRun{call: t1 - t0, created: rb.CreatedAt.Sub(wall0)}
	run.inside, run.evented = switchEvent(ctx, e, rb.ID, wall0)
	if cur, err := e.client.Deployment(ctx, rb.ID); err == nil {
		run.saved = cur.UpdatedAt.Sub(wall0)
	}
	run.visible = firstOnlyOld(samples, t0, oldVersion)
	for _, s := range samples {
		if s.start > t1 && s.answered() && s.version != oldVersion {
			run.wrong++
		}
	}
	return run, nil
}

// firstOnlyOld returns how long after t0 requests started to reach only old: the start of
// the first request that reached old after the last one that did not; -1 if none did.
func firstOnlyOld(samples []sample, t0 time.Duration, old string) time.Duration {
	lastOther := time.Duration(-1)
	for _, s := range samples {
		if s.start >= t0 && s.answered() && s.version != old {
			lastOther = s.start
		}
	}
	from := max(lastOther, t0)
	for _, s := range samples {
		if s.start > from && s.answered() && s.version == old {
			return s.start - t0
		}
	}
	return -1
}

// switchEvent reads the daemon's own switch timing from the rollback's event, and when the
// event was recorded relative to wall0; -1s when there is none.
func switchEvent(ctx context.Context, e *engine, id int64, wall0 time.Time) (time.Duration, time.Duration) {
	evs, err := e.client.Events(ctx, api.EventQuery{DeploymentID: id, Limit: 100}, 0)
	if err != nil {
		return -1, -1
	}
	for _, ev := range evs {
		if v, ok := ev.Data["switch_us"].(float64); ok {
			return time.Duration(v) * time.Microsecond, ev.Time.Sub(wall0)
		}
	}
	return -1, -1
}

func rollbackRows(loaded, quiet []rollbackRun, commit [2]time.Duration) []Row {
	pick := func(runs []rollbackRun, f func(rollbackRun) time.Duration) []time.Duration {
		var out []time.Duration
		for _, r := range runs {
			out = append(out, f(r))
		}
		return out
	}
	calls := pick(loaded, func(r rollbackRun) time.Duration { return r.call })
	quietCalls := pick(quiet, func(r rollbackRun) time.Duration { return r.call })
	visible := pick(loaded, func(r rollbackRun) time.Duration { return r.visible })
	inside := pick(append(loaded, quiet...), func(r rollbackRun) time.Duration { return r.inside })
	wrong := 0
	for _, r := range loaded {
		wrong += r.wrong
	}
	b := "4 rollback"
	return []Row{
		{b, "API call under the loop, median / max", fmt.Sprintf("%s / %s", ms(median(calls)), ms(maxOf(calls))), "< 10 ms",
			verdict(maxOf(calls) < 10*time.Millisecond), fmt.Sprintf("%d rollbacks to the warm revision; api.Client.Rollback, request to response; verdict on max", len(calls))},
		{b, "request sent → loop sees only the old version, median / max", fmt.Sprintf("%s / %s", ms(median(visible)), ms(maxOf(visible))), "< 10 ms",
			verdict(maxOf(visible) < 10*time.Millisecond), "upper bound: start of the first request that reached the old version after the last that did not; 1 keep-alive worker"},
		{b, "API call with no loop, median / max", fmt.Sprintf("%s / %s", ms(median(quietCalls)), ms(maxOf(quietCalls))), "< 10 ms",
			verdict(maxOf(quietCalls) < 10*time.Millisecond), fmt.Sprintf("%d rollbacks interleaved with the ones above", len(quietCalls))},
		{b, "daemon's SetWeights (event switch_us) median / max", fmt.Sprintf("%s / %s", us(median(inside)), us(maxOf(inside))), "< 1 ms",
			verdict(maxOf(inside) < time.Millisecond), "timed inside the daemon around the swap (fleet lock + proxy SetTargets), µs resolution"},
		{b, "requests started after the call returned that reached the new version", fmt.Sprint(wrong), "0", verdict(wrong == 0), ""},
		{b, "one SQLite write transaction, median / p99", fmt.Sprintf("%s / %s", ms(commit[0]), ms(commit[1])), "", "",
			"store.AddEvent on a fresh store in the same temp dir: what one commit (fsync) costs here; the rollback commits its record before the switch and its timing event after"},
	}
}

// commitCost times 100 single-row write transactions on a fresh store under dir: median, p99.
func commitCost(ctx context.Context, dir string) ([2]time.Duration, error) {
	st, err := store.Open(ctx, filepath.Join(dir, "commit-cost.db"))
	if err != nil {
		return [2]time.Duration{}, fmt.Errorf("commit cost: %w", err)
	}
	defer st.Close()
	var ds []time.Duration
	for range 100 {
		t0 := time.Now()
		if _, err := st.AddEvent(ctx, store.Event{Service: "bench", Type: "bench", Message: "commit cost"}); err != nil {
			return [2]time.Duration{}, fmt.Errorf("commit cost: %w", err)
		}
		ds = append(ds, time.Since(t0))
	}
	return [2]time.Duration{median(ds), quantile(ds, 0.99)}, nil
}
