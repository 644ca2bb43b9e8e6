package stack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/runtime"
)

// errNotReady is wrapped by the reasons a container is not ready.
var errNotReady = errors.New("not ready")

// readiness judges one status read: ready, not yet (nil error, false), or never (an error).
// A container with a healthcheck is ready once healthy; one without once it has run
// minReady without a restart.
func readiness(st runtime.Status, minReady time.Duration, now time.Time) (bool, error) {
	switch {
	case st.State == runtime.StateExited || st.State == runtime.StateCrashLoop || st.State == runtime.StateRestarting:
		return false, fmt.Errorf("%w: %s (%s)", errNotReady, st.State, st.Message)
	case st.Restarts > 0:
		return false, fmt.Errorf("%w: restarted %d times (%s)", errNotReady, st.Restarts, st.Message)
	case st.Health == runtime.HealthUnhealthy:
		return false, fmt.Errorf("%w: its healthcheck failed", errNotReady)
	case st.State != runtime.StateRunning:
		return false, nil
	case st.Health != runtime.HealthUnknown:
		return st.Health == runtime.HealthHealthy, nil
	}
	return !st.StartedAt.IsZero() && now.Sub(st.StartedAt) >= minReady, nil
}

// waitReady polls the new container's status until readiness decides, or the timeout.
func waitReady(ctx context.Context, rt Runtime, u Update) error {
	minReady, timeout, poll := u.MinReady, u.Timeout, u.Poll
	if minReady <= 0 {
		minReady = DefaultMinReady
	}
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		st, err := rt.Status(ctx, u.New.ID)
		if err == nil {
			var ok bool
			if ok, err = readiness(st, minReady, time.Now()); ok || err != nil {
				return err
			}
		} else if ctx.Err() == nil {
			return fmt.Errorf("status: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w within %s", errNotReady, timeout)
		case <-t.C:
		}
	}
}
