package process

import (
	"errors"
	"io/fs"
	"net"
	"strconv"
	"sync"

	"github.com/cutover/cutover/internal/runtime"
)

// instance is the driver's view of one instance. Its fields are guarded by mu.
type instance struct {
	id string

	mu sync.Mutex
	// known is false for an instance whose first start is under way or failed, and after
	// Remove; such an instance is "not found".
	known    bool
	rec      record
	state    runtime.State
	proc     *proc // the current process; nil while there is none
	stopping bool  // Stop was called: never restart
	// wake is closed by Stop to cut a supervisor's backoff short; nil when none waits.
	wake chan struct{}
	// supervised is closed when the supervision goroutine exits; nil when none runs.
	supervised chan struct{}
	history    crashHistory
}

// fromRecord rebuilds an instance from its record, finding its process if it still runs.
func fromRecord(r record) *instance {
	inst := &instance{id: r.Spec.ID, known: true, rec: r, state: runtime.StateExited}
	if r.PID != 0 && running(r.PID, r.StartTicks) {
		inst.proc = &proc{pid: r.PID, start: r.StartTicks}
		inst.state = runtime.StateRunning
	} else if !r.Stopped && inst.rec.Message == "" {
		inst.rec.Message = "process exited (status unknown)"
	}
	return inst
}

// load returns id's instance from memory, else from its record. With create, an unknown
// ID gets a new instance with known unset; without, it is runtime.ErrNotFound.
func (d *Driver) load(id string, create bool) (*instance, error) {
	if validID(id) != nil {
		return nil, runtime.ErrNotFound
	}
	return d.tab.lookup(id, func() (*instance, error) {
		rec, err := d.recs.load(id)
		switch {
		case err == nil:
			if resolveSpawn(&rec) {
				d.logger.Warn("instance found by its spawn mark", "instance", id, "pid", rec.PID)
				if err := d.recs.save(rec); err != nil {
					// Found again by its mark next time; meanwhile it is known in memory.
					d.logger.Warn("instance record not saved", "instance", id, "error", err)
				}
			}
			return fromRecord(rec), nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		case !create:
			return nil, runtime.ErrNotFound
		}
		return &instance{id: id}, nil
	})
}

// withKnown runs fn with id's known instance, its mu held; it is runtime.ErrNotFound when
// there is none.
func (d *Driver) withKnown(id string, fn func(inst *instance) error) error {
	inst, err := d.load(id, false)
	if err != nil {
		return err
	}
	return inst.with(func() error {
		if !inst.known {
			return runtime.ErrNotFound
		}
		return fn(inst)
	})
}

// with runs fn with inst.mu held and returns its error. with and do are the only places
// inst.mu is taken.
func (inst *instance) with(fn func() error) error {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	return fn()
}

// do runs fn with inst.mu held.
func (inst *instance) do(fn func()) {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	fn()
}

// statusLocked is inst's status; inst.mu must be held.
func (inst *instance) statusLocked() runtime.Status {
	if inst.supervised == nil && inst.proc != nil && !inst.proc.alive() {
		// Nobody supervises it, so nobody else notices it is gone.
		inst.proc = nil
		inst.state = runtime.StateExited
		inst.rec.Message = "process exited (status unknown)"
	}
	s := runtime.Status{
		ID:        inst.id,
		Service:   inst.rec.Spec.Service,
		Revision:  inst.rec.Spec.Revision,
		State:     inst.state,
		Restarts:  inst.rec.Restarts,
		ExitCode:  inst.rec.ExitCode,
		Health:    runtime.HealthUnknown,
		StartedAt: inst.rec.StartedAt,
		Message:   inst.rec.Message,
	}
	if inst.proc != nil {
		s.PID = inst.proc.pid
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(inst.rec.Port))
	}
	return s
}
