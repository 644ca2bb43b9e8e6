// Command soak runs cutover under steady load for a long while (30 minutes by default) and
// injects faults at random moments drawn from a printed seed: deploys of every strategy,
// rollbacks, SIGKILLed instances, hand-offs (SIGHUP), kill -9 of the daemon and a restart,
// and a full state disk for a while. It runs the real `cutover serve` binary and the demo
// app, both built into a temporary directory, talks to 127.0.0.1 only, then checks that no
// request failed while a daemon was serving, that no app process is orphaned or duplicated,
// that every deployment ended, and that the daemon's memory and open files did not grow.
// It writes bench/out/soak.md and exits 1 when an invariant broke.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type config struct {
	seed           uint64
	duration       time.Duration
	rate           int
	minGap, maxGap time.Duration
	maxFaults      int
	downMax        time.Duration
	diskFullMax    time.Duration
	diskMB         int
	noDisk         bool
	sample, settle time.Duration
	out, log       string
	verbose        bool
}

func main() {
	var c config
	flag.Uint64Var(&c.seed, "seed", 0, "seed of the fault schedule (0: a new one, printed)")
	flag.DurationVar(&c.duration, "duration", 30*time.Minute, "how long the load runs")
	flag.IntVar(&c.rate, "rate", 100, "requests per second to each of the two services")
	flag.DurationVar(&c.minGap, "min-gap", 5*time.Second, "shortest time between two faults")
	flag.DurationVar(&c.maxGap, "max-gap", 20*time.Second, "longest time between two faults")
	flag.IntVar(&c.maxFaults, "max-faults", 300, "at most this many faults")
	flag.DurationVar(&c.downMax, "daemon-down-max", 3*time.Second, "longest a killed daemon stays down before its restart")
	flag.DurationVar(&c.diskFullMax, "disk-full-max", 20*time.Second, "longest the state disk stays full")
	flag.IntVar(&c.diskMB, "disk-mb", 128, "size of the tmpfs holding the state directory (MiB)")
	flag.BoolVar(&c.noDisk, "no-disk", false, "no tmpfs and no full disk (needed without root)")
	flag.DurationVar(&c.sample, "sample", 5*time.Second, "how often the daemon's RSS and open files are read")
	flag.DurationVar(&c.settle, "settle", 2*time.Minute, "how long deployments and instances may take to settle at the end")
	flag.StringVar(&c.out, "out", "bench/out/soak.md", "Markdown report")
	flag.StringVar(&c.log, "log", "bench/out/soak-daemon.log", "copy of the daemons' log (empty: none)")
	flag.BoolVar(&c.verbose, "v", false, "print each fault as it happens")
	flag.Parse()
	if err := c.check(); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if c.seed == 0 {
		c.seed = rand.Uint64()
	}
	if !c.noDisk && os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "soak: filling the disk needs root (a tmpfs mount); run as root or pass --no-disk")
		os.Exit(2)
	}
	fmt.Printf("soak: seed %d (replay with --seed %d)\n", c.seed, c.seed)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	broken, err := run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if len(broken) > 0 {
		os.Exit(1)
	}
}

func (c config) check() error {
	switch {
	case c.duration < 30*time.Second:
		return fmt.Errorf("--duration %s: at least 30s", c.duration)
	case c.rate < 1:
		return fmt.Errorf("--rate %d: at least 1", c.rate)
	case c.minGap < 100*time.Millisecond || c.maxGap < c.minGap:
		return fmt.Errorf("--min-gap %s, --max-gap %s: min-gap at least 100ms, max-gap at least min-gap", c.minGap, c.maxGap)
	case c.maxFaults < 0 || c.downMax < 0 || c.diskFullMax < 0:
		return fmt.Errorf("--max-faults, --daemon-down-max and --disk-full-max must not be negative")
	case c.diskMB < 16:
		return fmt.Errorf("--disk-mb %d: at least 16", c.diskMB)
	case c.sample <= 0 || c.settle <= 0:
		return fmt.Errorf("--sample and --settle must be above 0")
	}
	return nil
}

// plan is the schedule's bounds for c: faults start after 10s and stop a fifth of the run
// (at most a minute) before its end, so the system settles under load.
func (c config) plan() Plan {
	return Plan{
		Duration: c.duration, Warmup: 10 * time.Second, Quiet: min(time.Minute, c.duration/5),
		MinGap: c.minGap, MaxGap: c.maxGap, MaxFaults: c.maxFaults,
		DaemonDownMax: c.downMax, DiskFullMax: c.diskFullMax, NoDisk: c.noDisk,
	}
}
