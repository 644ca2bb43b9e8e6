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
	d.mu.Lock()
	defer d.mu.Unlock()
	if inst := d.instances[id]; inst != nil {
		return inst, nil
	}
	rec, err := d.loadRecord(id)
	switch {
	case err == nil:
		if resolveSpawn(&rec) {
			d.logger.Warn("instance found by its spawn mark", "instance", id, "pid", rec.PID)
			if err := d.saveRecord(rec); err != nil {
				// Found again by its mark next time; meanwhile it is known in memory.
				d.logger.Warn("instance record not saved", "instance", id, "error", err)
			}
		}
		inst := fromRecord(rec)
		d.instances[id] = inst
		if inst.proc != nil {
			if _, taken := d.ports[rec.Port]; !taken {
				d.ports[rec.Port] = id
			}
		}
		return inst, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	case !create:
		return nil, runtime.ErrNotFound
	}
	inst := &instance{id: id}
	d.instances[id] = inst
	return inst, nil
}

// locked returns id's known instance with its mu held, or runtime.ErrNotFound.
func (d *Driver) locked(id string) (*instance, error) {
	inst, err := d.load(id, false)
	if err != nil {
		return nil, err
	}
	inst.mu.Lock()
	if !inst.known {
		inst.mu.Unlock()
		return nil, runtime.ErrNotFound
	}
	return inst, nil
}

// forget drops inst from memory (it has no record, or its record was deleted).
func (d *Driver) forget(inst *instance) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.instances[inst.id] == inst {
		delete(d.instances, inst.id)
	}
	if d.ports[inst.rec.Port] == inst.id {
		delete(d.ports, inst.rec.Port)
	}
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
