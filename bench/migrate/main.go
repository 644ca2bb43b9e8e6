// Command migrate measures an expand on a large PostgreSQL table while the old revision of
// the demo app (DEMO_DB_SCHEMA=v0, behind its own HTTP API) writes and reads at a constant
// rate: each step of the safe expand (the rename-column example's migrations 0002 and 0003
// — new column, trigger, backfill in batches of 10,000 — plus a column with a constant
// default and CREATE INDEX CONCURRENTLY, all applied by internal/migrate's runner) next to
// the naive version of the same step (one UPDATE, a volatile default, a plain CREATE INDEX),
// each on a fresh table of --rows rows. Per step: its duration, the requests that failed,
// the app's latency (p99, max) and the longest lock wait of an app query seen by sampling
// pg_stat_activity. After each expand it checks that every acknowledged write is in the
// table. It talks to 127.0.0.1 only and creates (then drops) databases of its own.
//
// Run it from the repository root: go run ./bench/migrate [flags]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/cutover/cutover/bench/machine"
)

// options is the command line.
type options struct {
	dsn     string
	rows    int64
	rate    int
	settle  time.Duration
	timeout time.Duration
	out     string
}

func main() {
	var o options
	fs := flag.NewFlagSet("migrate", flag.ExitOnError)
	fs.StringVar(&o.dsn, "dsn", defaultDSN(), "PostgreSQL server (admin DSN; a database of the bench's own is created)")
	fs.Int64Var(&o.rows, "rows", 1_000_000, "rows in the users table before each expand")
	fs.IntVar(&o.rate, "rate", 200, "app load: tasks per second (each a write and a read back)")
	fs.DurationVar(&o.settle, "settle", time.Second, "load before and after each step")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "bound on the whole run")
	fs.StringVar(&o.out, "out", "bench/out/migrate.md", "Markdown fragment to write")
	_ = fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o, strings.Join(os.Args[1:], " ")); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func defaultDSN() string {
	if d := os.Getenv("CUTOVER_TEST_PG_DSN"); d != "" {
		return d
	}
	return "postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable"
}

func run(ctx context.Context, o options, args string) error {
	if o.rows < 1 || o.rate < 1 {
		return fmt.Errorf("--rows %d, --rate %d: both must be above 0", o.rows, o.rate)
	}
	tmp, err := os.MkdirTemp("", "cutover-bench-migrate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	app, err := buildDemoapp(ctx, tmp)
	if err != nil {
		return err
	}
	var report strings.Builder
	fmt.Fprintf(&report, "Measured %s, %d CPUs, %s, %s; load average at start %s. Command: `go run ./bench/migrate %s`\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), runtime.Version(), serverVersion(ctx, o.dsn), machine.LoadAvg(), args)
	var results []modeResult
	for _, m := range []mode{safeMode(), naiveMode()} {
		fmt.Printf("%s expand on %d rows\n", m.name, o.rows)
		r, err := runMode(ctx, o, m, app, tmp)
		if err != nil {
			return fmt.Errorf("%s expand: %w", m.name, err)
		}
		results = append(results, r)
	}
	writeTable(&report, o, results)
	fmt.Fprintf(&report, "\nLoad average at end %s.\n", machine.LoadAvg())
	fmt.Print("\n", report.String())
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(o.out, []byte(report.String()), 0o644)
}
