package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Serve runs `cutover serve`: a daemon over opts.StateDir until ctx is done. Without a
// Logger it logs text to stderr at opts.LogLevel.
func Serve(ctx context.Context, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: parseLevel(opts.LogLevel)}))
	}
	d, err := New(ctx, opts)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return d.Run(ctx)
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

// metricsHandler exports the proxy's per-service, per-revision metrics for Prometheus.
func (d *Daemon) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(d.proxy.Collector())
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
