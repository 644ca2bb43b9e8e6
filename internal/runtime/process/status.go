package process

import (
	"context"
	"errors"
	"fmt"

	"github.com/cutover/cutover/internal/runtime"
)

// Status returns the instance's status, or an error wrapping runtime.ErrNotFound. Addr and
// PID are set while a process runs.
func (d *Driver) Status(ctx context.Context, id string) (runtime.Status, error) {
	inst, err := d.locked(id)
	if err != nil {
		return runtime.Status{}, fmt.Errorf("status %s: %w", id, err)
	}
	defer inst.mu.Unlock()
	return inst.statusLocked(), nil
}

// List returns the status of every instance with a record, sorted by ID, including those of
// an earlier daemon process: running when their process (same pid and start time) lives,
// else exited.
func (d *Driver) List(ctx context.Context) ([]runtime.Status, error) {
	ids, err := d.recordIDs()
	if err != nil {
		return nil, err
	}
	out := make([]runtime.Status, 0, len(ids))
	for _, id := range ids {
		st, err := d.Status(ctx, id)
		if errors.Is(err, runtime.ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		out = append(out, st)
	}
	return out, nil
}

// Adopt resumes supervision of instances found by List: a running one is restarted when it
// exits; one that exited without Stop while no daemon watched it is restarted now.
// Instances stopped by Stop stay stopped. An unknown ID is an error wrapping
// runtime.ErrNotFound.
func (d *Driver) Adopt(ctx context.Context, ids []string) error {
	for _, id := range ids {
		inst, err := d.locked(id)
		if err != nil {
			return fmt.Errorf("adopt %s: %w", id, err)
		}
		if inst.rec.Stopped || inst.supervised != nil {
			inst.mu.Unlock()
			continue
		}
		inst.stopping = false
		ok := d.superviseLocked(inst)
		inst.mu.Unlock()
		if !ok {
			return fmt.Errorf("adopt %s: %w", id, errClosed)
		}
		d.logger.Info("instance adopted", "instance", id)
	}
	return nil
}
