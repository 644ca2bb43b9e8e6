package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// serve runs the app on ln until ctx is done (SIGTERM), EXIT_AFTER passes or serving fails,
// and returns the process exit code. On ctx done it drains: /healthz answers 503 while other
// requests are served for SHUTDOWN_DELAY, then the server shuts down gracefully.
func serve(ctx context.Context, cfg config, ln net.Listener, out io.Writer) int {
	a := newApp(cfg, time.Now())
	if cfg.DB.enabled() {
		users, err := openUsers(cfg.DB)
		if err != nil {
			fmt.Fprintf(out, "serve: %v\n", err)
			return 1
		}
		defer users.Close() // after the server's shutdown below: in-flight requests finish first
		a.users = users
	}
	srv := &http.Server{Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(out, "listening on %s version %s\n", shownAddr(cfg.Addr, ln), cfg.Version)

	var exitAfter <-chan time.Time
	if cfg.ExitAfter > 0 {
		t := time.NewTimer(cfg.ExitAfter)
		defer t.Stop()
		exitAfter = t.C
	}
	select {
	case err := <-errc:
		fmt.Fprintf(out, "serve: %v\n", err)
		return 1
	case <-exitAfter:
		srv.Close()
		fmt.Fprintf(out, "exiting after %s with code %d\n", cfg.ExitAfter, cfg.ExitCode)
		return cfg.ExitCode
	case <-ctx.Done():
	}

	a.draining.Store(true) // before the log line, which tells watchers readiness now fails
	fmt.Fprintln(out, "shutting down")
	time.Sleep(cfg.ShutdownDelay)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		fmt.Fprintf(out, "shutdown: %v\n", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(out, "serve: %v\n", err)
	}
	fmt.Fprintln(out, "stopped")
	return 0
}

// shownAddr is the configured address (":8080"), or the real one when the port was 0.
func shownAddr(configured string, ln net.Listener) string {
	if _, port, err := net.SplitHostPort(configured); err == nil && port != "0" {
		return configured
	}
	return ln.Addr().String()
}
