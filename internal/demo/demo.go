// Package demo runs `cutover demo`: a private daemon in a temporary directory, the bundled
// demo app under constant load, and a scripted tour of deployments with a running tally. It
// composes the daemon like cmd/cutover does; nothing imports it but cmd/cutover.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/daemon"
)

// Run runs `cutover demo`: a private daemon in a temporary directory, the bundled demo app
// (this binary's hidden `demoapp` command) under constant load, then a rolling deploy, a
// blue-green deploy and a rollback with progress and a running tally; everything is stopped
// and removed when ctx ends.
func Run(ctx context.Context, opts Options, out io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("demo: find own binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "cutover-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	logFile, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer logFile.Close()
	d, err := daemon.New(ctx, daemon.Options{StateDir: filepath.Join(dir, "state"), Listen: "127.0.0.1:0", StopInstancesOnExit: true,
		Logger: slog.New(slog.NewTextHandler(logFile, nil)), Tick: 100 * time.Millisecond})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	runCtx, stopDaemon := context.WithCancel(context.WithoutCancel(ctx))
	daemonDone := make(chan error, 1)
	go func() { daemonDone <- d.Run(runCtx) }()
	defer func() {
		fmt.Fprintln(out, "\nstopping: draining and stopping every instance, removing", dir)
		stopDaemon()
		<-daemonDone
	}()
	listen, err := freeLoopback()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	t := &tour{out: out, client: api.NewClient("http://"+d.Addr(), d.Token()), exe: exe, listen: listen, state: filepath.Join(dir, "state")}
	fmt.Fprintf(out, "cutover demo: daemon on %s, state in %s, log in %s\n", d.Addr(), t.state, logFile.Name())
	err = t.run(ctx, opts)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Options configure Run.
type Options struct {
	// Rate is the constant load in requests per second.
	Rate int
	// Exit ends the demo after the tour instead of serving until ctx is done.
	Exit bool
}

func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
