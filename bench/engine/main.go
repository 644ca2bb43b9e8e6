// Command engine benchmarks cutover's engine on loopback: failed requests during
// back-to-back deploys under constant load, deploy overhead beyond the app's start-up,
// blue-green switch time, rollback time inside the warm window, and the proxy's throughput
// and latency against the app served directly. It starts its own daemon(s) in-process, runs
// the demo app (built from examples/demoapp at start), prints a table and writes it as a
// Markdown fragment. Every load loop is bounded in count and time; it only ever talks to
// 127.0.0.1.
//
// Run it from the repository root: go run ./bench/engine [flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/cutover/cutover/bench/machine"
)

// flags holds the command line.
type flags struct {
	only                string
	deploys, rate       int
	replicas, runs      int
	startupDelay        time.Duration
	periods             string
	switches, rollbacks int
	conns               string
	duration            time.Duration
	reps                int
	out, logPath        string
	cpuProfile          string
	timeout             time.Duration
	verbose             bool
	canaries            int
	canaryRate          int
	canaryWeight        int
	latencyCanaries     int
	latencyRate         int
	latencyWeight       int
	latencyHealthy      time.Duration
	latencyHealthyRuns  int
	latencyBaseline     bool
}

func parseFlags(args []string) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("engine", flag.ContinueOnError)
	fs.StringVar(&f.only, "only", "deploys,overhead,switch,rollback,throughput,canary", "comma-separated benches to run")
	fs.IntVar(&f.deploys, "deploys", 20, "deploys: back-to-back deploys under load")
	fs.IntVar(&f.rate, "rate", 1000, "deploys: constant request rate (req/s)")
	fs.IntVar(&f.replicas, "replicas", 3, "deploys, overhead, rollback: replicas per revision")
	fs.IntVar(&f.runs, "runs", 5, "overhead: measured deploys per strategy and probe period")
	fs.DurationVar(&f.startupDelay, "startup-delay", 500*time.Millisecond, "overhead: the app's STARTUP_DELAY")
	fs.StringVar(&f.periods, "periods", "100ms,1s", "overhead: readiness probe periods")
	fs.IntVar(&f.switches, "switches", 200, "switch: blue-green swaps measured")
	fs.IntVar(&f.rollbacks, "rollbacks", 10, "rollback: rollbacks measured")
	fs.StringVar(&f.conns, "conns", "16,64", "throughput: concurrent connections")
	fs.DurationVar(&f.duration, "duration", 3*time.Second, "throughput: length of each trial")
	fs.IntVar(&f.reps, "reps", 3, "throughput: direct/proxy pairs per connection count")
	fs.StringVar(&f.out, "out", "bench/out/engine.md", "Markdown fragment to write")
	fs.StringVar(&f.logPath, "log", "bench/out/engine-daemon.log", "daemon log file (empty: discard)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.DurationVar(&f.timeout, "timeout", 15*time.Minute, "give up after this long")
	fs.BoolVar(&f.verbose, "v", false, "print each deployment's events")
	fs.IntVar(&f.canaries, "canaries", 5, "canary: bad canaries measured")
	fs.IntVar(&f.canaryRate, "canary-rate", 500, "canary: constant request rate (req/s)")
	fs.IntVar(&f.canaryWeight, "canary-weight", 10, "canary: the canary's share of traffic (%)")
	fs.IntVar(&f.latencyCanaries, "latency-canaries", 3, "canary-latency: canaries twice as slow measured per latency shape")
	fs.IntVar(&f.latencyRate, "latency-rate", 100, "canary-latency: constant request rate (req/s)")
	fs.IntVar(&f.latencyWeight, "latency-weight", 5, "canary-latency: the canary's share of traffic (%)")
	fs.DurationVar(&f.latencyHealthy, "latency-healthy", time.Minute, "canary-latency: the healthy canary's analysis duration")
	fs.IntVar(&f.latencyHealthyRuns, "latency-healthy-runs", 1, "canary-latency: healthy canaries measured per latency shape")
	fs.BoolVar(&f.latencyBaseline, "latency-baseline", false, "canary-latency: judge against a fresh baseline of stable (baseline: true)")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if f.deploys < 1 || f.rate < 1 || f.replicas < 1 || f.runs < 1 || f.latencyHealthyRuns < 1 || f.switches < 1 || f.rollbacks < 1 || f.reps < 1 {
		return f, fmt.Errorf("counts must be at least 1")
	}
	return f, nil
}

// runEnv is what every bench shares: the demo app binary, a temporary directory, a logger.
type runEnv struct {
	flags  flags
	dir    string
	app    string
	logger *slog.Logger
	out    io.Writer
}

// engine starts a fresh daemon with its state in its own directory.
func (r *runEnv) engine(ctx context.Context, name string) (*engine, error) {
	return startEngine(ctx, filepath.Join(r.dir, name), r.app, r.logger.With("bench", name))
}

// engineWithRoute starts a fresh daemon and picks a free loopback address for a route.
func (r *runEnv) engineWithRoute(ctx context.Context, name string) (*engine, string, error) {
	e, err := r.engine(ctx, name)
	if err != nil {
		return nil, "", err
	}
	listen, err := freeAddr()
	if err != nil {
		r.stopEngine(e)
		return nil, "", err
	}
	return e, listen, nil
}

func (r *runEnv) stopEngine(e *engine) {
	if err := e.stop(); err != nil {
		r.logf("  stop daemon: %v", err)
	}
}

func (r *runEnv) logf(format string, args ...any) { fmt.Fprintf(r.out, format+"\n", args...) }

type bench struct {
	name string
	run  func(context.Context, *runEnv) ([]Row, error)
}

var benches = []bench{
	{"deploys", benchDeploys},
	{"overhead", benchOverhead},
	{"switch", benchSwitch},
	{"rollback", benchRollback},
	{"throughput", benchThroughput},
	{"canary", benchCanary},
	{"canary-latency", benchCanaryLatency},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	f, err := parseFlags(args)
	if err != nil {
		return err
	}
	loadAtStart := machine.LoadAvg()
	fmt.Fprintf(out, "load average at start: %s\n", loadAtStart)
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "cutover-bench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	logger, closeLog, err := openLog(f.logPath)
	if err != nil {
		return err
	}
	defer closeLog()
	fmt.Fprintln(out, "building the demo app")
	app, err := buildDemoapp(ctx, dir)
	if err != nil {
		return err
	}
	if f.cpuProfile != "" {
		stopProfile, err := startProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	r := &runEnv{flags: f, dir: dir, app: app, logger: logger, out: out}
	var rows []Row
	failed := 0
	for _, b := range benches {
		if !selected(f.only, b.name) {
			continue
		}
		fmt.Fprintf(out, "\n== %s\n", b.name)
		start := time.Now()
		got, err := b.run(ctx, r)
		if err != nil {
			failed++
			fmt.Fprintf(out, "  error: %v\n", err)
			rows = append(rows, Row{Bench: b.name, Metric: "error", Value: "-", Note: err.Error()})
			continue
		}
		fmt.Fprintf(out, "  (%s)\n", time.Since(start).Round(time.Second))
		rows = append(rows, got...)
	}
	fmt.Fprintln(out)
	printTable(out, rows)
	if err := writeMarkdown(f.out, rows, machineHeader(ctx, strings.Join(args, " "), loadAtStart)); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nload average at end: %s\nwrote %s\n", machine.LoadAvg(), f.out)
	if failed > 0 {
		return fmt.Errorf("%d bench(es) failed", failed)
	}
	return nil
}

func selected(only, name string) bool {
	for _, s := range strings.Split(only, ",") {
		if strings.TrimSpace(s) == name {
			return true
		}
	}
	return false
}

func openLog(path string) (*slog.Logger, func(), error) {
	if path == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil)), func() {}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, fmt.Errorf("log: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("log: %w", err)
	}
	return slog.New(slog.NewTextHandler(f, nil)), func() { f.Close() }, nil
}

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
