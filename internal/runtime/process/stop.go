package process

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/cutover/cutover/internal/runtime"
)

// killWait bounds the wait for a process group to go after SIGKILL.
const killWait = 10 * time.Second

// Stop sends SIGTERM to the instance's process group, waits up to its StopGrace (cut short
// when ctx is done), then sends SIGKILL; it returns once the process is gone and it will not
// be restarted. Stopping an unknown or exited instance is not an error.
func (d *Driver) Stop(ctx context.Context, id string) error {
	var (
		inst  *instance
		p     *proc
		done  chan struct{}
		grace time.Duration
	)
	err := d.withKnown(id, func(i *instance) (err error) {
		inst = i
		p, done, grace, err = d.beginStopLocked(i)
		return err
	})
	if errors.Is(err, runtime.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	killed := false
	if p != nil {
		if killed, err = d.terminate(ctx, p, grace); err != nil {
			return fmt.Errorf("stop %s: %w", id, err)
		}
	}
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("stop %s: wait for supervision to end: %w", id, ctx.Err())
		}
	}
	return inst.with(func() error { return d.stoppedLocked(inst, p, killed, grace) })
}

// beginStopLocked marks inst stopping, cuts a supervisor's backoff short and records the
// stop before any signal; it returns the process to end, the supervision to wait for and the
// grace. inst.mu must be held.
func (d *Driver) beginStopLocked(inst *instance) (p *proc, done chan struct{}, grace time.Duration, err error) {
	inst.stopping = true
	if inst.wake != nil {
		close(inst.wake)
		inst.wake = nil
	}
	p, done = inst.proc, inst.supervised
	grace = inst.rec.Spec.StopGrace
	if grace <= 0 {
		grace = d.opts.StopGrace
	}
	if p != nil {
		inst.state = runtime.StateStopping
		// Recorded first, so that no other driver over the same dir restarts it meanwhile.
		inst.rec.Stopped = true
		d.opts.Crash.Reach("stop-record-before")
		if err := d.recs.save(inst.rec); err != nil {
			return nil, nil, 0, err
		}
		d.opts.Crash.Reach("stop-record-after")
	}
	return p, done, grace, nil
}

// stoppedLocked records that Stop ended inst's process p (nil: there was none).
func (d *Driver) stoppedLocked(inst *instance, p *proc, killed bool, grace time.Duration) error {
	inst.proc, inst.state = nil, runtime.StateExited
	if p != nil {
		inst.rec.Message, inst.rec.ExitCode = exitStatus(p)
		inst.rec.Message = "stopped: " + inst.rec.Message
		if killed {
			inst.rec.Message = fmt.Sprintf("killed after stop grace %s", grace)
		}
	}
	inst.rec.PID, inst.rec.PGID, inst.rec.StartTicks = 0, 0, 0
	inst.rec.Stopped = true
	d.tab.releasePort(inst.rec.Port, inst.id)
	if err := d.recs.save(inst.rec); err != nil {
		return fmt.Errorf("stop %s: %w", inst.id, err)
	}
	d.opts.Crash.Reach("stop-exited-record-after")
	d.logger.Info("instance stopped", "instance", inst.id, "status", inst.rec.Message)
	return nil
}

// terminate ends p's process group: SIGTERM, up to grace (less if ctx is done), SIGKILL.
// killed reports whether SIGKILL was needed.
func (d *Driver) terminate(ctx context.Context, p *proc, grace time.Duration) (killed bool, err error) {
	if !p.alive() {
		return false, nil
	}
	d.opts.Crash.Reach("stop-signal-before")
	if err := p.signalGroup(syscall.SIGTERM); err != nil {
		return false, err
	}
	d.opts.Crash.Reach("stop-signal-after")
	if p.waitGone(grace, d.opts.PollInterval, ctx.Done()) {
		// The leader is gone; whatever it left in its group goes too.
		return false, p.signalGroup(syscall.SIGKILL)
	}
	if err := p.signalGroup(syscall.SIGKILL); err != nil {
		return true, err
	}
	if !p.waitGone(killWait, d.opts.PollInterval, nil) {
		return true, fmt.Errorf("process %d still running %s after SIGKILL", p.pid, killWait)
	}
	return true, nil
}

// Restart stops the instance, then starts it again under the same ID and spec, counting a
// restart; the new process keeps the port when it is free.
func (d *Driver) Restart(ctx context.Context, id string) error {
	if _, err := d.load(id, false); err != nil {
		return fmt.Errorf("restart %s: %w", id, err)
	}
	if err := d.Stop(ctx, id); err != nil {
		return fmt.Errorf("restart %s: %w", id, err)
	}
	err := d.withKnown(id, func(inst *instance) error {
		if inst.supervised != nil || inst.proc != nil {
			return nil // started again meanwhile
		}
		if d.tab.isClosed() {
			return errClosed
		}
		inst.stopping = false
		inst.rec.Restarts++
		if err := d.spawnLocked(inst, false); err != nil {
			return err
		}
		d.superviseLocked(inst)
		return nil
	})
	if err != nil {
		return fmt.Errorf("restart %s: %w", id, err)
	}
	return nil
}

// Remove deletes the record of an exited instance; its log stays. Removing an unknown
// instance is not an error; removing one that runs is.
func (d *Driver) Remove(ctx context.Context, id string) error {
	err := d.withKnown(id, func(inst *instance) error {
		if inst.supervised != nil || (inst.proc != nil && inst.proc.alive()) {
			return fmt.Errorf("instance is %s; stop it first", inst.state)
		}
		d.opts.Crash.Reach("remove-record-before")
		if err := d.recs.remove(id); err != nil {
			return err
		}
		d.opts.Crash.Reach("remove-record-after")
		inst.known = false
		d.tab.forget(inst)
		return nil
	})
	if errors.Is(err, runtime.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	return nil
}
