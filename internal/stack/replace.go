package stack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/runtime"
)

// Runtime runs the containers of stateful and worker services: the Docker runtime, under
// an owner of the stack's own (the daemon's fleet never sees them).
type Runtime interface {
	Start(ctx context.Context, specs []runtime.InstanceSpec) error
	Stop(ctx context.Context, id string) error
	Restart(ctx context.Context, id string) error
	Remove(ctx context.Context, id string) error
	Status(ctx context.Context, id string) (runtime.Status, error)
}

// DefaultReadyTimeout bounds how long a new container has to become ready.
const DefaultReadyTimeout = 2 * time.Minute

// Update replaces what runs of one stateful or worker service by a new container.
type Update struct {
	Kind Kind
	New  runtime.InstanceSpec
	// Old are the IDs of the service's containers running now.
	Old []string
	// MinReady is how long a container without a healthcheck must run without a restart
	// to be ready (DefaultMinReady when zero); one with a healthcheck must be healthy.
	MinReady time.Duration
	// Timeout bounds the wait for readiness (DefaultReadyTimeout when zero).
	Timeout time.Duration
	// Poll is how often the container's status is read (200ms when zero).
	Poll time.Duration
}

// Replace deploys u. A stateful service is stopped first (never two containers on its
// volume), then the new container starts; when it does not become ready, it is removed
// and the old ones are started again. A worker's new container starts first and must be
// ready before the old ones are stopped, each with its stop grace; when it does not become
// ready it is removed and the old ones were never touched. say reports each step.
func Replace(ctx context.Context, rt Runtime, u Update, say func(format string, args ...any)) error {
	name := u.New.Service
	if u.Kind == Stateful {
		for _, id := range u.Old {
			say("%s: stopping %s (downtime starts: stateful services stop before their replacement starts)", name, id)
			if err := rt.Stop(ctx, id); err != nil {
				return fmt.Errorf("%s: stop %s: %w", name, id, err)
			}
		}
	}
	began := time.Now()
	say("%s: starting %s", name, u.New.ID)
	err := rt.Start(ctx, []runtime.InstanceSpec{u.New})
	if err == nil {
		err = waitReady(ctx, rt, u)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("%s: new container %s: %w", name, u.New.ID, err), undo(ctx, rt, u, say))
	}
	if u.Kind == Stateful && len(u.Old) > 0 {
		say("%s: %s ready; downtime ended after %s", name, u.New.ID, time.Since(began).Round(time.Millisecond))
	} else {
		say("%s: %s ready", name, u.New.ID)
	}
	for _, id := range u.Old {
		if u.Kind != Stateful {
			say("%s: stopping %s (SIGTERM, then its stop grace)", name, id)
		}
		if err := stopAndRemove(ctx, rt, id); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// Settle finishes what an interrupted deploy left: u.New.ID is the container that runs the
// service's current definition, u.Old the other containers of the service (exited or
// running). Once the current one is ready, the others are stopped and removed; when it does
// not become ready, nothing is touched and the error says so.
func Settle(ctx context.Context, rt Runtime, u Update, say func(format string, args ...any)) error {
	if len(u.Old) == 0 {
		return nil
	}
	name := u.New.Service
	say("%s: %d container(s) left by an interrupted deploy beside %s", name, len(u.Old), u.New.ID)
	if err := waitReady(ctx, rt, u); err != nil {
		return fmt.Errorf("%s: %s: %w (the containers left beside it were not touched)", name, u.New.ID, err)
	}
	for _, id := range u.Old {
		say("%s: removing %s", name, id)
		if err := stopAndRemove(ctx, rt, id); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// undo removes a new container that did not become ready and, for a stateful service,
// starts the stopped old ones again.
func undo(ctx context.Context, rt Runtime, u Update, say func(format string, args ...any)) error {
	ctx = context.WithoutCancel(ctx)
	err := stopAndRemove(ctx, rt, u.New.ID)
	if u.Kind != Stateful {
		say("%s: the running containers were left as they are", u.New.Service)
		return err
	}
	for _, id := range u.Old {
		say("%s: starting %s again", u.New.Service, id)
		if rerr := rt.Restart(ctx, id); rerr != nil {
			err = errors.Join(err, fmt.Errorf("start %s again: %w", id, rerr))
		}
	}
	return err
}

func stopAndRemove(ctx context.Context, rt Runtime, id string) error {
	if err := rt.Stop(ctx, id); err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	if err := rt.Remove(ctx, id); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	return nil
}
