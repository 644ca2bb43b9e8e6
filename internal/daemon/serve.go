package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/cutover/cutover/internal/deploymetrics"
	"github.com/cutover/cutover/internal/handoff"
	"github.com/cutover/cutover/internal/migrate/coordinator"
	"github.com/cutover/cutover/internal/proxy"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Serve runs `cutover serve`: a daemon over opts.StateDir until ctx is done. Without a
// Logger it logs to stderr at opts.LogLevel, in opts.LogFormat.
//
// It is the process's entry point: it takes over what a previous daemon handed over (see
// handoff.Env), and on SIGHUP it hands itself over to a new process of the executable it was
// started from, re-read from disk (an upgrade when the file was replaced), with the same
// arguments.
func Serve(ctx context.Context, opts Options) error {
	if opts.Logger == nil {
		hopts := &slog.HandlerOptions{Level: parseLevel(opts.LogLevel)}
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, hopts))
		if opts.LogFormat == "json" {
			opts.Logger = slog.New(slog.NewJSONHandler(os.Stderr, hopts))
		}
	}
	// The process is a proxy from now on: proxy.GCPercent unless the operator set GOGC/GOMEMLIMIT.
	proxy.TuneGC(os.Getenv)
	in, err := handoff.Inherit(os.Getenv(handoff.Env))
	if err != nil {
		return fmt.Errorf("serve: take over from the previous daemon: %w", err)
	}
	in.NotifySocket = os.Getenv(handoff.NotifyEnv)
	opts.inherited = in
	if opts.Successor == nil {
		if opts.Successor, err = successorCommand(os.Args); err != nil {
			opts.Logger.Warn("hand-off on SIGHUP not available", "error", err)
		}
	}
	if opts.Reload == nil {
		// signal.Notify never blocks: a SIGHUP while one is pending is merged with it.
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		opts.Reload = hup
	}
	if opts.Lint == nil {
		opts.Lint = childLinter(opts.Logger)
	}
	opts.TrimExecutable = true
	d, err := New(ctx, opts)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return d.Run(ctx)
}

// childLinter lints migrations in a child `cutover migrate lint`, so the PostgreSQL parser
// (slow to start, ~280 MB while it runs) never stays resident in the daemon. Without a known
// executable it lints in-process.
func childLinter(logger *slog.Logger) coordinator.Linter {
	exe, err := os.Executable()
	if err != nil {
		logger.Warn("migrations are linted in-process", "error", err)
		return nil
	}
	return coordinator.LintWithBinary(exe)
}

// successorCommand is the command that replaces this process: the executable named by
// argv[0], resolved now to an absolute path (so that a binary replaced on disk is the one
// started), with the same arguments.
func successorCommand(argv []string) (*handoff.Command, error) {
	if len(argv) == 0 {
		return nil, errors.New("no argv[0]")
	}
	path := argv[0]
	var err error
	if strings.Contains(path, "/") {
		path, err = filepath.Abs(path)
	} else {
		path, err = exec.LookPath(path)
		if err == nil {
			path, err = filepath.Abs(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("resolve executable %q: %w", argv[0], err)
	}
	return &handoff.Command{Path: path, Args: slices.Clone(argv), Stdout: os.Stdout, Stderr: os.Stderr}, nil
}

func parseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// metricsHandler exports the proxy's per-service, per-revision metrics and the
// deployment-level series for Prometheus.
func (d *Daemon) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(d.proxy.Collector(), deploymetrics.New(d.backend()), d.series.Collector())
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
