package main

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cutover/cutover/bench/machine"
	"github.com/cutover/cutover/examples/demoapp/userload"
	"github.com/cutover/cutover/internal/migrate"
)

// stepResult is one step measured under load.
type stepResult struct {
	step step
	dur  time.Duration
	rep  userload.Report
	lock lockStats
}

// modeResult is a whole expand measured.
type modeResult struct {
	mode     mode
	seed     time.Duration
	steps    []stepResult
	acked    int // users written with an acknowledgement over all steps
	missing  int // of those, not in the table afterwards
	wrongVal int // of those, in the table with another name
}

// runMode seeds a database of its own, starts the demo app on it and measures each step.
func runMode(ctx context.Context, o options, m mode, app, tmp string) (modeResult, error) {
	res := modeResult{mode: m}
	dsn, drop, err := createDatabase(ctx, o.dsn, "cutover_bench_migrate_"+m.name)
	if err != nil {
		return res, err
	}
	defer drop()
	env := stepEnv{dir: filepath.Join(tmp, m.name)}
	if err := os.MkdirAll(env.dir, 0o755); err != nil {
		return res, err
	}
	if err := writeMigrations(env.dir); err != nil {
		return res, err
	}
	if env.runner, err = migrate.Open(ctx, "postgres", dsn); err != nil {
		return res, err
	}
	defer env.runner.Close()
	if env.db, err = sql.Open("pgx", dsn); err != nil {
		return res, err
	}
	defer env.db.Close()
	if err := expandUpTo(ctx, env, 1); err != nil {
		return res, err
	}
	if res.seed, err = seed(ctx, env.db, o.rows); err != nil {
		return res, err
	}
	url, stop, err := startDemoapp(app, dsn+"&application_name=demoapp")
	if err != nil {
		return res, err
	}
	defer stop()
	want := map[int64]string{}
	for _, s := range m.steps {
		r, err := measure(ctx, o, url, env, s)
		if err != nil {
			return res, fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Printf("  %-24s %8s  failed %d  p99 %s  max %s  lock wait %s\n", s.name, r.dur.Round(time.Millisecond),
			r.rep.FailedRequests(), r.rep.Quantile(0.99).Round(time.Millisecond), r.rep.Max().Round(time.Millisecond), r.lock.longest.Round(time.Millisecond))
		res.steps = append(res.steps, r)
		maps.Copy(want, r.rep.Users) // a later step's rename of the same user wins
	}
	return res, verify(ctx, env.db, want, &res)
}

// verify counts the acknowledged writes that are missing from the table or hold another name.
func verify(ctx context.Context, db *sql.DB, want map[int64]string, res *modeResult) error {
	ids := slices.Collect(maps.Keys(want))
	got, err := readNames(ctx, db, ids)
	if err != nil {
		return fmt.Errorf("verify writes: %w", err)
	}
	res.acked = len(want)
	for id, name := range want {
		switch g, ok := got[id]; {
		case !ok:
			res.missing++
		case g != name:
			res.wrongVal++
		}
	}
	return nil
}

// measure runs the step while the app is under load, with settle time before and after.
func measure(ctx context.Context, o options, url string, env stepEnv, s step) (stepResult, error) {
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	repc := make(chan userload.Report, 1)
	go func() {
		// Enough workers that a blocked app queues requests instead of the generator dropping them.
		rep, _ := userload.Run(loadCtx, userload.Config{URL: url, Rate: o.rate, Workers: 4096,
			Timeout: 10 * time.Second, Seed: o.rows, Duration: 10 * time.Minute})
		repc <- rep
	}()
	smpCtx, stopSmp := context.WithCancel(ctx)
	defer stopSmp()
	lockc := make(chan lockStats, 1)
	go func() { lockc <- sampleLocks(smpCtx, env.db) }()

	machine.Sleep(ctx, o.settle)
	t0 := time.Now()
	err := s.do(ctx, env)
	r := stepResult{step: s, dur: time.Since(t0)}
	machine.Sleep(ctx, o.settle)
	stopLoad()
	r.rep = <-repc
	stopSmp()
	r.lock = <-lockc
	return r, err
}
