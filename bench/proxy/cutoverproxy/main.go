// Command cutoverproxy runs cutover's proxy package on its own, configured the way the daemon
// configures it for one service: one route (any host, path /) on -listen and one revision group
// holding the -targets, balanced round robin. It is the cutover entry of the proxy comparison,
// so that cutover is measured with the same upstreams as nginx, HAProxy and Caddy and without
// the daemon's other work. With -cpuprofile it writes a CPU profile of its whole life, written
// when SIGINT or SIGTERM stops it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/cutover/cutover/internal/proxy"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "proxy address (loopback)")
	targets := flag.String("targets", "", "comma-separated upstream host:port list")
	balance := flag.String("balance", "round_robin", "round_robin or least_requests")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := run(ctx, logger, *listen, *targets, *balance, *cpuProfile); err != nil {
		fmt.Fprintf(os.Stderr, "cutoverproxy: %v\n", err)
		os.Exit(1)
	}
}

// run configures the proxy, serves until ctx is done and writes the profile if asked.
func run(ctx context.Context, logger *slog.Logger, listen, targets, balance, cpuProfile string) error {
	if !strings.HasPrefix(listen, "127.0.0.1:") {
		return fmt.Errorf("listen %s: only 127.0.0.1 is allowed", listen)
	}
	if targets == "" {
		return errors.New("no -targets")
	}
	group := proxy.Group{Revision: 1, Weight: 100}
	for i, addr := range strings.Split(targets, ",") {
		group.Targets = append(group.Targets, proxy.Target{ID: fmt.Sprintf("upstream-%d", i+1), Addr: addr})
	}
	proxy.TuneGC(os.Getenv) // as the daemon does
	p := proxy.New(logger, proxy.Config{})
	if err := p.SetRoute(proxy.Route{Service: "bench", Listen: listen, Balance: balance}); err != nil {
		return fmt.Errorf("set route: %w", err)
	}
	p.SetTargets("bench", []proxy.Group{group}, 0)
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return fmt.Errorf("create profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(os.Stderr, "cutoverproxy: listening on %s\n", strings.Join(p.Addrs(), ","))
	if err := p.Run(ctx); err != nil {
		return fmt.Errorf("run proxy: %w", err)
	}
	return nil
}
