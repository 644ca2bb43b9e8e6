// Package app is the demo app: an HTTP server whose behaviour comes from its environment.
// It is the body of examples/demoapp and of the hidden `cutover demoapp` command.
package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Run reads the config, waits STARTUP_DELAY, listens and serves until SIGTERM/SIGINT
// (unless IGNORE_SIGTERM=1), returning the exit code: 2 for bad configuration.
func Run(getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "demoapp: %v\n", err)
		return 2
	}
	// PRINT_ENV=K1,K2 prints those variables at start, as a careless app does: the tests
	// check that cutover hides secret values in what it shows of an app's output.
	for _, k := range strings.Split(getenv("PRINT_ENV"), ",") {
		if k != "" {
			fmt.Fprintf(stdout, "env %s=%s\n", k, getenv(k))
		}
	}
	ctx := context.Background()
	if cfg.IgnoreSIGTERM {
		signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
	} else {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
		defer stop()
	}
	if cfg.StartupDelay > 0 {
		select {
		case <-time.After(cfg.StartupDelay):
		case <-ctx.Done():
			fmt.Fprintln(stdout, "stopped")
			return 0
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "demoapp: %v\n", err)
		return 1
	}
	return serve(ctx, cfg, ln, stdout)
}
