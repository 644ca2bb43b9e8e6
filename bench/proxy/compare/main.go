// Command compare measures cutover's proxy side by side with nginx, HAProxy and Caddy on
// loopback. It starts N upstreams (bench/proxy/upstream) and one instance of each proxy in
// front of them with equivalent settings, then runs wrk closed-loop at several concurrencies
// (interleaved across proxies, repeated), then bench/proxy/openloop (constant rate, latency from
// each request's scheduled time) at half of each proxy's measured saturation and at one common
// rate for all, reading CPU time and peak RSS of each
// proxy's processes from /proc, and profiles cutover's proxy under load if asked. It
// writes a Markdown report and prints it. Every load run is bounded in time, and everything
// listens on and talks to 127.0.0.1 only.
//
// bench/proxy/run.sh installs the tools, builds the programs and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cutover/cutover/bench/machine"
)

// options is the command line.
type options struct {
	binDir      string // holds upstream and cutoverproxy
	workDir     string
	out         string
	only        []string
	conns       []int
	reps        int
	duration    time.Duration
	warmup      time.Duration
	openLoop    time.Duration
	upstreams   int
	fixedRate   int    // a second open-loop run at this rate for every target; 0: half the lowest proxy peak; <0: none
	profile     string // CPU profile of cutover at profileConns; empty: none
	profileDur  time.Duration
	profileConn int
	command     string // as typed, for the report
}

func parseOptions(args []string) (options, error) {
	var o options
	var only, conns string
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.StringVar(&o.binDir, "bin", "bench/out/bin", "directory holding the upstream and cutoverproxy binaries")
	fs.StringVar(&o.workDir, "work", "", "directory for configs and logs (default: a new temporary one)")
	fs.StringVar(&o.out, "out", "bench/out/proxy.md", "Markdown report to write")
	fs.StringVar(&only, "only", "direct,cutover,nginx,haproxy,caddy", "targets to measure (direct and nginx are the references)")
	fs.StringVar(&conns, "conns", "1,16,64,256", "wrk connection counts")
	fs.IntVar(&o.reps, "reps", 2, "rounds of interleaved closed-loop runs")
	fs.DurationVar(&o.duration, "duration", 8*time.Second, "length of each closed-loop run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "closed-loop warm-up per target before measuring")
	fs.DurationVar(&o.openLoop, "open-duration", 10*time.Second, "length of each open-loop run")
	fs.IntVar(&o.upstreams, "upstreams", 2, "upstream instances")
	fs.IntVar(&o.fixedRate, "fixed-rate", 0, "also run the open-loop generator at this rate (req/s) against every target; 0: half the lowest peak among the proxies; negative: skip")
	fs.StringVar(&o.profile, "cpuprofile", "", "also profile cutover's proxy under load and write the profile here")
	fs.DurationVar(&o.profileDur, "profile-duration", 10*time.Second, "length of the profiled run")
	fs.IntVar(&o.profileConn, "profile-conns", 64, "connections of the profiled run")
	fs.StringVar(&o.command, "command", "", "the command line to quote in the report")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.only = strings.Split(only, ",")
	for _, c := range strings.Split(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-conns: %q is not a positive count", c)
		}
		o.conns = append(o.conns, n)
	}
	if o.reps < 1 || o.upstreams < 1 || o.duration < time.Second || o.openLoop < time.Second {
		return o, fmt.Errorf("-reps and -upstreams must be at least 1, durations at least 1s")
	}
	return o, nil
}

func main() {
	o, err := parseOptions(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		os.Exit(1)
	}
}

// run starts everything, measures, reports and stops everything.
func run(ctx context.Context, o options) error {
	if o.workDir == "" {
		dir, err := os.MkdirTemp("", "proxybench-")
		if err != nil {
			return fmt.Errorf("make work dir: %w", err)
		}
		defer os.RemoveAll(dir)
		o.workDir = dir
	}
	if err := os.MkdirAll(o.workDir, 0o755); err != nil {
		return fmt.Errorf("make work dir: %w", err)
	}
	bin, err := filepath.Abs(o.binDir)
	if err != nil {
		return fmt.Errorf("bin dir: %w", err)
	}
	o.binDir = bin
	started := time.Now()
	loadStart := machine.LoadAvg()
	b := &bench{o: o, log: os.Stderr}
	defer b.stopAll()
	if err := b.start(ctx); err != nil {
		return err
	}
	res, err := b.measure(ctx)
	if err != nil {
		return err
	}
	var prof string
	if o.profile != "" {
		if prof, err = b.profileCutover(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "compare: cpu profile: %v\n", err)
			prof = "profile failed: " + err.Error()
		}
	}
	b.stopAll()
	host := describeMachine(ctx, b.versions) +
		fmt.Sprintf("- Load average (1, 5, 15 min) at start: %s; at end: %s\n", loadStart, machine.LoadAvg())
	md := report(o, res, host, prof, time.Since(started))
	if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Print(md)
	return nil
}
