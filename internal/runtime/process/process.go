// Package process is cutover's default runtime driver: each instance is a local child process
// in its own process group, its stdout and stderr appended to a log file and its record kept in
// a JSON file, so instances outlive the daemon and a later daemon adopts them. The record is
// written before the process is forked and removed only after it is gone, so that a daemon
// killed at any step leaves no process that no record claims. It restarts an
// instance that exits unexpectedly, with exponential backoff, and moves one whose port another
// process holds to a new port (not counted as a crash). It does not judge health
// (Status.Health stays unknown) and does not decide what runs: that is the caller's.
package process

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cutover/cutover/internal/crashpoint"
	"github.com/cutover/cutover/internal/runtime"
)

// Options tune supervision. A zero field takes its default.
type Options struct {
	// BackoffBase is the first restart delay; it doubles per consecutive crash (default 200ms).
	BackoffBase time.Duration
	// BackoffMax caps the restart delay (default 30s).
	BackoffMax time.Duration
	// CrashLoopRestarts is how many restarts within CrashLoopWindow make an instance
	// crash_loop (default 3).
	CrashLoopRestarts int
	// CrashLoopWindow is the window CrashLoopRestarts is counted in (default 60s).
	CrashLoopWindow time.Duration
	// StableAfter is how long a process must run before its backoff starts over (default 30s).
	StableAfter time.Duration
	// PollInterval is how often processes that are not children of this daemon are checked,
	// and how often followed logs are read (default 100ms).
	PollInterval time.Duration
	// StopGrace is used for specs without a StopGrace (default 10s).
	StopGrace time.Duration
	// Crash kills the daemon at a named step of starting or stopping an instance, for the
	// tests that prove what survives (nil: never).
	Crash *crashpoint.At
	// Sealer, when set, seals each instance's env in its record (env values hold secrets);
	// records written in plain text are sealed when next read.
	Sealer Sealer
}

// Sealer encrypts values at rest (seal.Key is one).
type Sealer interface {
	Seal(label string, plain []byte) []byte
	Open(label string, sealed []byte) ([]byte, error)
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.BackoffBase, 200*time.Millisecond)
	def(&o.BackoffMax, 30*time.Second)
	def(&o.CrashLoopWindow, 60*time.Second)
	def(&o.StableAfter, 30*time.Second)
	def(&o.PollInterval, 100*time.Millisecond)
	def(&o.StopGrace, 10*time.Second)
	if o.CrashLoopRestarts <= 0 {
		o.CrashLoopRestarts = 3
	}
	return o
}

// errClosed is returned by operations that would start supervision after Close.
var errClosed = errors.New("driver closed")

// Driver runs instances as local processes. It implements runtime.Driver and is safe for
// concurrent use. Its state lives in dir: instances/<id>.json and logs/<id>.log, private
// to the daemon's user (directories 0700, files 0600).
type Driver struct {
	dir    string
	logger *slog.Logger
	opts   Options

	tab  *table   // instances in memory, ports handed out, closing
	recs *records // what survives the daemon
}

var _ runtime.Driver = (*Driver)(nil)

// New returns a driver keeping its records and logs in dir, which it creates (0700) if
// needed.
// It starts nothing: call List and Adopt to resume supervision of earlier instances.
func New(dir string, logger *slog.Logger, opts Options) (*Driver, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for _, sub := range []string{"instances", "logs"} {
		path := filepath.Join(dir, sub)
		if err := os.MkdirAll(path, 0o700); err != nil {
			return nil, fmt.Errorf("new process driver: %w", err)
		}
		// One made by an older cutover may be 0755.
		if err := os.Chmod(path, 0o700); err != nil {
			return nil, fmt.Errorf("new process driver: %w", err)
		}
	}
	logger = logger.With("driver", "process")
	opts = opts.withDefaults()
	return &Driver{
		dir:    dir,
		logger: logger,
		opts:   opts,
		tab:    newTable(),
		recs:   &records{dir: dir, sealer: opts.Sealer, logger: logger},
	}, nil
}

// Close stops every supervision goroutine and waits for them. Instances keep running and can
// be adopted by a new driver over the same dir. Stop and Status still work after Close; Start
// and Adopt do not. A child of this process that is still running keeps one goroutine blocked
// in wait(2) until it exits, so that it is reaped rather than left a zombie.
func (d *Driver) Close() error {
	d.tab.close()
	return nil
}

// logPath is where the instance's stdout and stderr go.
func (d *Driver) logPath(id string) string {
	return filepath.Join(d.dir, "logs", id+".log")
}
