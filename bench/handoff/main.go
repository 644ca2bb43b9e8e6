// Command handoff measures restarts of `cutover serve` by hand-off (SIGHUP) under a constant
// load through the proxy: failed requests, how long each hand-off takes (signal to the
// successor serving) and how long the old process takes to drain and exit, and the latency
// the load saw. It builds cutover and the demo app, runs them as real processes on
// 127.0.0.1, writes bench/out/handoff.md and removes everything it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var c config
	flag.IntVar(&c.handoffs, "handoffs", 10, "hand-offs in a row")
	flag.DurationVar(&c.gap, "gap", time.Second, "load between two hand-offs")
	flag.IntVar(&c.rate, "rate", 1000, "requests per second in all (3/4 keep-alive, 1/4 a new connection each)")
	flag.DurationVar(&c.latency, "app-latency", 20*time.Millisecond, "the demo app's time per request")
	flag.BoolVar(&c.verbose, "v", false, "print each hand-off, each request slower than 300ms and the daemons' log")
	flag.StringVar(&c.out, "out", "bench/out/handoff.md", "Markdown result file")
	flag.Parse()
	if c.handoffs < 1 || c.rate < 4 || c.gap <= 0 {
		fmt.Fprintln(os.Stderr, "handoff: --handoffs >= 1, --rate >= 4 and --gap > 0 are required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "handoff:", err)
		os.Exit(1)
	}
}

type config struct {
	handoffs     int
	gap, latency time.Duration
	rate         int
	out          string
	verbose      bool
}
