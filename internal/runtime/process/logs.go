package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// Logs copies the instance's log (stdout and stderr) to w. With follow it then polls for
// more every PollInterval until ctx is done, and returns nil. A removed instance whose log
// is still there gets its log without follow; an unknown ID is an error wrapping
// runtime.ErrNotFound.
func (d *Driver) Logs(ctx context.Context, id string, follow bool, w io.Writer) error {
	if err := d.withKnown(id, func(*instance) error { return nil }); err != nil {
		// A removed instance keeps its log: show what it wrote, there is nothing to follow.
		if f, ferr := os.Open(d.logPath(id)); ferr == nil {
			defer f.Close()
			if _, err := io.Copy(w, f); err != nil {
				return fmt.Errorf("logs %s: %w", id, err)
			}
			return nil
		}
		return fmt.Errorf("logs %s: %w", id, err)
	}
	f, err := os.Open(d.logPath(id))
	for errors.Is(err, fs.ErrNotExist) && follow {
		if !sleepCtx(ctx, d.opts.PollInterval) {
			return nil
		}
		f, err = os.Open(d.logPath(id))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logs %s: %w", id, err)
	}
	defer f.Close()
	for {
		if _, err := io.Copy(w, f); err != nil {
			return fmt.Errorf("logs %s: %w", id, err)
		}
		if !follow || !sleepCtx(ctx, d.opts.PollInterval) {
			return nil
		}
	}
}

// sleepCtx waits for d; it reports false when ctx is done first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
