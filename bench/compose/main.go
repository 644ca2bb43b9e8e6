// Command compose benchmarks cutover's Docker runtime against plain Docker on loopback:
// failed requests while a compose service is updated by `docker-compose up -d` versus
// `cutover deploy -f` on the same compose file under constant load, and the start-to-ready
// overhead of one container deployed by cutover versus `docker run` plus polling /healthz.
// It builds the demo image (cutover-demoapp:test) and the cutover binary at start, runs
// `cutover serve` as a child process with a temporary state directory, only ever talks to
// 127.0.0.1 and removes every container it made. Every loop is bounded in count and time.
//
// Run it from the repository root: go run ./bench/compose [flags]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"time"
)

// flags holds the command line.
type flags struct {
	rate    int
	runs    int
	out     string
	timeout time.Duration
}

func main() {
	var f flags
	flag.IntVar(&f.rate, "rate", 200, "rollout: constant request rate (req/s)")
	flag.IntVar(&f.runs, "runs", 5, "startup: interleaved measurements per side")
	flag.StringVar(&f.out, "out", "bench/out/compose.md", "Markdown fragment written here")
	flag.DurationVar(&f.timeout, "timeout", 10*time.Minute, "bound on the whole run")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	if err := run(ctx, logger, f); err != nil {
		fmt.Fprintln(os.Stderr, "compose bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger, f flags) error {
	env, err := setup(ctx, logger)
	if err != nil {
		return err
	}
	defer env.close(logger)
	roll, err := rollouts(ctx, logger, env, f.rate, composeFile, "one")
	if err != nil {
		return err
	}
	stackRoll, err := rollouts(ctx, logger, env, f.rate, stackFile, "stack")
	if err != nil {
		return err
	}
	start, err := startups(ctx, logger, env, f.runs)
	if err != nil {
		return err
	}
	md := report(f, roll, stackRoll, start)
	fmt.Print(md)
	if f.out != "" {
		if err := os.WriteFile(f.out, []byte(md), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.out, err)
		}
	}
	return nil
}
