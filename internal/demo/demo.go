// Package demo runs `cutover demo`: a private daemon in a temporary directory, the bundled
// demo app under constant load, and a scripted tour of deployments with a running tally. It
// is handed the daemon to start by cmd/cutover (Options.Start), and nothing imports it but
// cmd/cutover.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/cutover/cutover/internal/api"
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
	if opts.Start == nil {
		return errors.New("demo: no daemon to start")
	}
	d, err := opts.Start(ctx, filepath.Join(dir, "state"), logFile)
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
	// Start creates the private daemon (cmd/cutover passes one over daemon.New).
	Start StartDaemon
}

// Daemon is the private daemon the demo runs: its control API's address and token, and Run,
// which serves until ctx ends and then stops every instance.
type Daemon interface {
	Addr() string
	Token() string
	Run(ctx context.Context) error
}

// StartDaemon creates a daemon listening on a free loopback port, with its state under
// stateDir and its log written to log, that stops its instances when it stops.
type StartDaemon func(ctx context.Context, stateDir string, log io.Writer) (Daemon, error)

func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
