// Command flags benchmarks cutover's feature flags over loopback: OFREP bulk evaluation of
// many flags by a closed loop of N workers (requests/s, p50, p99, also the 304 answer to
// If-None-Match), and the time from a flag change through the control API until a client
// sees it, by the OFREP event stream (SSE) and by polling. It starts its own daemon
// in-process (state in a temporary directory, API on 127.0.0.1:0), prints a table and writes
// it as a Markdown fragment. It only ever talks to 127.0.0.1.
//
// Run it from the repository root: go run ./bench/flags [flags]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/bench/machine"
	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/daemon"
	"github.com/cutover/cutover/internal/flags"
)

// options is the command line.
type options struct {
	flags    int
	workers  string
	duration time.Duration
	changes  int
	poll     time.Duration
	out      string
}

func main() {
	var o options
	fs := flag.NewFlagSet("flags", flag.ExitOnError)
	fs.IntVar(&o.flags, "flags", 100, "flags created (half with a 50% rollout, a tenth with rules)")
	fs.StringVar(&o.workers, "workers", "1,8,32", "bulk: closed-loop workers, one connection each (comma-separated runs)")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "bulk: length of each run")
	fs.IntVar(&o.changes, "changes", 20, "change: flag changes measured per method")
	fs.DurationVar(&o.poll, "poll", 500*time.Millisecond, "change: the polling client's interval")
	fs.StringVar(&o.out, "out", "bench/out/flags.md", "Markdown fragment to write")
	_ = fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, strings.Join(os.Args[1:], " ")); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, args string) error {
	dir, err := os.MkdirTemp("", "cutover-bench-flags-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d, err := daemon.New(ctx, daemon.Options{StateDir: dir, Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	c := api.NewClient("http://"+d.Addr(), d.Token())
	if err := waitHealthy(ctx, c); err != nil {
		return err
	}
	tok, err := c.CreateSDKToken(ctx, "bench", "bench")
	if err != nil {
		return err
	}
	if err := createFlags(ctx, c, o.flags); err != nil {
		return err
	}
	base := "http://" + d.Addr()
	var report strings.Builder
	fmt.Fprintf(&report, "Measured %s, %d CPUs, %s; load average at start %s. Command: `go run ./bench/flags %s`\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), runtime.Version(), machine.LoadAvg(), args)

	fmt.Fprintf(&report, "OFREP bulk evaluation of %d flags (POST /ofrep/v1/evaluate/flags, closed loop, keep-alive):\n\n", o.flags)
	report.WriteString("| workers | answer | requests | req/s | p50 | p99 | max |\n|---:|---|---:|---:|---:|---:|---:|\n")
	for _, w := range strings.Split(o.workers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 {
			return fmt.Errorf("--workers %q: want positive numbers", o.workers)
		}
		for _, cached := range []bool{false, true} {
			r, err := bulkLoop(ctx, base, tok.Token, n, o.duration, cached)
			if err != nil {
				return err
			}
			fmt.Fprintln(&report, r.row(n, cached))
			fmt.Print(r.row(n, cached), "\n")
		}
	}
	report.WriteString("\nTime from a flag change (`SetFlagEnabled` through the API, timed from just before the call) until a client sees it:\n\n")
	report.WriteString("| client | changes | p50 | p99 | max |\n|---|---:|---:|---:|---:|\n")
	for _, m := range []changeMethod{viaSSE, viaSSERefetch, viaPoll(o.poll)} {
		lat, err := changeLatency(ctx, c, base, tok.Token, o.changes, m)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		line := fmt.Sprintf("| %s | %d | %s | %s | %s |", m.name, len(lat), ms(quantile(lat, 0.5)), ms(quantile(lat, 0.99)), ms(slices.Max(lat)))
		fmt.Println(line)
		fmt.Fprintln(&report, line)
	}
	fmt.Fprintf(&report, "\nLoad average at end %s.\n", machine.LoadAvg())
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(o.out, []byte(report.String()), 0o644)
}

func waitHealthy(ctx context.Context, c *api.Client) error {
	deadline := time.Now().Add(10 * time.Second)
	for c.Health(ctx) != nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("daemon not healthy within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// createFlags makes n boolean flags: every other one with a 50% rollout, every tenth with
// a rule on an attribute, so that the bulk answer mixes STATIC, SPLIT and TARGETING_MATCH.
func createFlags(ctx context.Context, c *api.Client, n int) error {
	for i := range n {
		f := flags.Flag{Key: fmt.Sprintf("flag-%03d", i), Type: flags.Boolean, Enabled: true,
			Variants: map[string]any{"on": true, "off": false}, DefaultVariant: "off"}
		if i%10 == 0 {
			f.Rules = []flags.Rule{{Conditions: []flags.Condition{{Attribute: "country", Op: flags.OpOneOf, Value: []any{"CA", "US"}}}, Variant: "on"}}
		}
		if _, err := c.PutFlag(ctx, "bench", f); err != nil {
			return err
		}
		if i%2 == 0 {
			if _, err := c.SetFlagRollout(ctx, "bench", f.Key, api.FlagRolloutRequest{To: 50}); err != nil {
				return err
			}
		}
	}
	return nil
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	s := slices.Clone(sorted)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// drain reads and closes a body so that its connection is reused.
func drain(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, r)
	r.Close()
}
