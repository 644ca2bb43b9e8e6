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
	var st runtime.Status
	err := d.withKnown(id, func(inst *instance) error {
		st = inst.statusLocked()
		return nil
	})
	if err != nil {
		return runtime.Status{}, fmt.Errorf("status %s: %w", id, err)
	}
	return st, nil
}

// List returns the status of every instance with a record, sorted by ID, including those of
// an earlier daemon process: running when their process (same pid and start time) lives,
// else exited.
func (d *Driver) List(ctx context.Context) ([]runtime.Status, error) {
	ids, err := d.recs.ids()
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
		adopted := false
		err := d.withKnown(id, func(inst *instance) error {
			if inst.rec.Stopped || inst.supervised != nil {
				return nil
			}
			inst.stopping = false
			if !d.superviseLocked(inst) {
				return errClosed
			}
			adopted = true
			return nil
		})
		if err != nil {
			return fmt.Errorf("adopt %s: %w", id, err)
		}
		if adopted {
			d.logger.Info("instance adopted", "instance", id)
		}
	}
	return nil
}
