package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/cutover/cutover/internal/runtime"
)

// Logs copies the container's stdout and stderr, as Docker kept them, to w. With follow it
// keeps copying until ctx is done, across restarts of the container: Docker ends a followed
// stream when the container exits, so Logs waits for the next run and follows it from the
// moment the last one ended. It returns nil when ctx ends the copy, and an error wrapping
// runtime.ErrNotFound for an unknown instance.
func (d *Driver) Logs(ctx context.Context, id string, follow bool, w io.Writer) error {
	c, err := d.inspect(ctx, id)
	if errors.Is(err, errForeign) {
		err = fmt.Errorf("%w: %w", runtime.ErrNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("logs %s: %w", id, err)
	}
	tty := c.Config != nil && c.Config.Tty
	var since time.Time
	for {
		err := d.copyLogs(ctx, id, follow, since, tty, w)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("logs %s: %w", id, err)
		}
		if !follow {
			return nil
		}
		next, ok := d.nextRun(ctx, id, since)
		if !ok {
			return nil
		}
		since = next
	}
}

// copyLogs copies one stream of logs written at or after since (zero: all) to w.
func (d *Driver) copyLogs(ctx context.Context, id string, follow bool, since time.Time, tty bool, w io.Writer) error {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: follow}
	if !since.IsZero() {
		opts.Since = fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond())
	}
	rc, err := d.cli.ContainerLogs(ctx, containerName(id), opts)
	if err != nil {
		return err
	}
	defer rc.Close()
	if tty {
		_, err = io.Copy(w, rc)
	} else {
		// Without a TTY, Docker multiplexes stdout and stderr in framed chunks.
		_, err = stdcopy.StdCopy(w, w, rc)
	}
	return err
}

// nextRun waits until the container runs again after an exit later than since, and returns
// that exit's time: every line of the next run is logged after it, every line of the last
// run before it (Docker drains a run's output before it records the exit). It reports
// false when ctx is done or the container is gone.
func (d *Driver) nextRun(ctx context.Context, id string, since time.Time) (time.Time, bool) {
	t := time.NewTicker(d.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return time.Time{}, false
		case <-t.C:
		}
		c, err := d.inspect(ctx, id)
		if errors.Is(err, runtime.ErrNotFound) || errors.Is(err, errForeign) {
			return time.Time{}, false
		}
		if err != nil || c.State == nil {
			continue // the engine may be restarting; try again
		}
		finished := parseTime(c.State.FinishedAt)
		if c.State.Running && !c.State.Restarting && finished.After(since) {
			return finished, true
		}
	}
}
