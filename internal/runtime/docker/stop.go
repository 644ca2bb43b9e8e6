package docker

import (
	"context"
	"errors"
	"fmt"

	"github.com/docker/docker/api/types/container"

	"github.com/cutover/cutover/internal/runtime"
)

// Stop stops the instance's container: SIGTERM, then SIGKILL once its stop grace (rounded
// up to whole seconds, Docker's unit) is over. It returns once the container has exited;
// Docker's restart policy does not restart a stopped container. An unknown or exited
// instance is not an error. The container is kept (exited) until Remove, except one that
// was created but never started, which is removed.
func (d *Driver) Stop(ctx context.Context, id string) error {
	c, err := d.inspect(ctx, id)
	if errors.Is(err, runtime.ErrNotFound) || errors.Is(err, errForeign) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	if c.State != nil && c.State.Status == container.StateCreated {
		// Created but never started (a daemon killed inside Start): nothing ran, so nothing
		// is kept; otherwise it would read as starting forever.
		if err := d.cli.ContainerRemove(ctx, containerName(id), container.RemoveOptions{Force: true}); err != nil {
			return fmt.Errorf("stop %s: remove never-started container: %w", id, err)
		}
		d.seen.forget(id)
		return nil
	}
	if c.State == nil || !c.State.Running {
		return nil
	}
	done := d.seen.markStopping(id)
	defer done()
	// No timeout: the container's own StopTimeout holds the spec's grace.
	d.opts.Crash.Reach("docker-stop-before")
	if err := d.cli.ContainerStop(ctx, containerName(id), container.StopOptions{}); err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	d.opts.Crash.Reach("docker-stop-after")
	d.logger.Info("instance stopped", "instance", id)
	return nil
}

// Restart stops the instance's container as Stop does and starts it again under the same
// ID (a liveness failure). Docker sets its restart count back to zero. An unknown ID is an
// error wrapping runtime.ErrNotFound.
func (d *Driver) Restart(ctx context.Context, id string) error {
	if _, err := d.inspect(ctx, id); err != nil {
		if errors.Is(err, errForeign) {
			err = fmt.Errorf("%w: %w", runtime.ErrNotFound, err)
		}
		return fmt.Errorf("restart %s: %w", id, err)
	}
	done := d.seen.markStopping(id)
	err := d.cli.ContainerRestart(ctx, containerName(id), container.StopOptions{})
	done()
	if err != nil {
		return fmt.Errorf("restart %s: %w", id, err)
	}
	d.seen.forget(id)
	d.logger.Info("instance restarted", "instance", id)
	return nil
}

// Remove deletes an exited instance's container, and with it Docker's copy of its logs.
// A running instance is an error; an unknown one is not.
func (d *Driver) Remove(ctx context.Context, id string) error {
	c, err := d.inspect(ctx, id)
	if errors.Is(err, runtime.ErrNotFound) || errors.Is(err, errForeign) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	if c.State != nil && c.State.Running {
		return fmt.Errorf("remove %s: container %s is %s; stop it first", id, containerName(id), c.State.Status)
	}
	d.opts.Crash.Reach("docker-remove-before")
	if err := d.cli.ContainerRemove(ctx, containerName(id), container.RemoveOptions{RemoveVolumes: true}); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	d.opts.Crash.Reach("docker-remove-after")
	d.seen.forget(id)
	return nil
}

// Wait blocks until instance id's container is not running and returns its exit code.
func (d *Driver) Wait(ctx context.Context, id string) (int, error) {
	okc, errc := d.cli.ContainerWait(ctx, containerName(id), container.WaitConditionNotRunning)
	select {
	case r := <-okc:
		return int(r.StatusCode), nil
	case err := <-errc:
		return 0, fmt.Errorf("wait for %s: %w", id, err)
	}
}
