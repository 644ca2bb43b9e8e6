package process

import (
	"errors"
	"os/exec"
	"syscall"
	"time"

	"github.com/cutover/cutover/internal/runtime"
)

// forever is a wait with no deadline.
const forever = time.Duration(1<<63 - 1)

// crashHistory is what restart decisions remember of earlier crashes.
type crashHistory struct {
	restarts  []time.Time // when recent restarts were decided, oldest first
	streak    int         // crashes since the process last ran for StableAfter
	portMoves int         // exits on a taken port since the process last ran for StableAfter
}

// planRestart decides, for a process started at startedAt (zero when unknown) that exited
// unexpectedly at now, how long to wait before restarting it and which state it is in
// meanwhile: crash_loop once CrashLoopRestarts restarts happened within CrashLoopWindow,
// else restarting. The delay doubles from BackoffBase up to BackoffMax and starts over
// after a process ran for StableAfter.
func planRestart(o Options, h crashHistory, startedAt, now time.Time) (crashHistory, time.Duration, runtime.State) {
	if !startedAt.IsZero() && now.Sub(startedAt) >= o.StableAfter {
		h.streak = 0
	}
	recent := make([]time.Time, 0, len(h.restarts)+1)
	for _, t := range h.restarts {
		if now.Sub(t) < o.CrashLoopWindow {
			recent = append(recent, t)
		}
	}
	state := runtime.StateRestarting
	if len(recent) >= o.CrashLoopRestarts {
		state = runtime.StateCrashLoop
	}
	delay := o.BackoffBase
	for i := 0; i < h.streak && delay < o.BackoffMax; i++ {
		delay *= 2
	}
	delay = min(delay, o.BackoffMax)
	return crashHistory{restarts: append(recent, now), streak: h.streak + 1, portMoves: h.portMoves}, delay, state
}

// superviseLocked starts inst's supervision goroutine unless one runs; inst.mu must be held.
// It reports false when the driver is closed.
func (d *Driver) superviseLocked(inst *instance) bool {
	if inst.supervised != nil {
		return true
	}
	if !d.tab.addSupervisor() {
		return false
	}
	done, wake := make(chan struct{}), make(chan struct{})
	inst.supervised, inst.wake = done, wake
	go d.supervise(inst, done, wake)
	return true
}

// supervise waits for inst's process to exit and restarts it after its backoff, until Stop
// (which closes wake) or Close.
func (d *Driver) supervise(inst *instance, done, wake chan struct{}) {
	defer d.tab.supervisorDone()
	defer func() {
		inst.do(func() { inst.supervised = nil })
		close(done)
	}()
	for {
		var p *proc
		inst.do(func() { p = inst.proc })
		if p != nil && !p.waitGone(forever, d.opts.PollInterval, d.tab.closing) {
			return // closing
		}
		var delay time.Duration
		ok := false
		inst.do(func() { delay, ok = d.crashedLocked(inst, p) })
		if !ok {
			return
		}
		if p != nil {
			// What is left of its process group must not hold the port for the next one.
			p.signalGroup(syscall.SIGKILL)
		}
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-wake:
			timer.Stop()
			return
		case <-d.tab.closing:
			timer.Stop()
			return
		}
		ok = false
		inst.do(func() { ok = d.respawnLocked(inst) })
		if !ok {
			return
		}
	}
}

// crashedLocked records that p (nil: no process at all) exited unexpectedly and plans the
// restart; ok is false when the exit was Stop's doing.
func (d *Driver) crashedLocked(inst *instance, p *proc) (delay time.Duration, ok bool) {
	if inst.stopping || inst.proc != p {
		return 0, false
	}
	if disk, err := d.recs.load(inst.id); err == nil && (disk.Stopped || disk.PID != inst.rec.PID) {
		// Another driver over the same dir stopped or replaced it: not ours to restart.
		fresh := fromRecord(disk)
		inst.rec, inst.proc, inst.state = fresh.rec, fresh.proc, fresh.state
		d.logger.Warn("instance taken over by another driver", "instance", inst.id)
		return 0, false
	}
	var startedAt time.Time
	if p != nil {
		startedAt = inst.rec.StartedAt
		inst.rec.Message, inst.rec.ExitCode = exitStatus(p)
	}
	if p != nil && d.movePort(inst, p, startedAt) {
		delay = 0
	} else {
		inst.history, delay, inst.state = planRestart(d.opts, inst.history, startedAt, time.Now())
	}
	inst.proc = nil
	inst.rec.PID, inst.rec.PGID, inst.rec.StartTicks = 0, 0, 0
	if err := d.recs.save(inst.rec); err != nil {
		d.logger.Warn("instance record not saved", "instance", inst.id, "error", err)
	}
	d.logger.Warn("instance exited", "instance", inst.id, "status", inst.rec.Message,
		"state", inst.state, "restart_in", delay)
	return delay, true
}

// respawnLocked starts inst's next process; it reports false when it must not (Stop, Close).
// A process that cannot start counts as one more crash.
func (d *Driver) respawnLocked(inst *instance) bool {
	if inst.stopping || d.tab.isClosed() {
		return false
	}
	inst.rec.Restarts++
	if err := d.spawnLocked(inst, false); err != nil {
		inst.rec.Message, inst.rec.ExitCode = "restart: "+err.Error(), -1
		d.logger.Warn("instance not restarted", "instance", inst.id, "error", err)
	}
	return true
}

// exitStatus describes how p ended ("exit status 1", "signal: killed") and its exit code,
// -1 when it was signalled or is unknown.
func exitStatus(p *proc) (string, int) {
	if p.exited == nil {
		return "process exited (status unknown)", -1
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return "exit status 0", 0
	case errors.As(p.err, &ee):
		return ee.Error(), ee.ExitCode()
	default:
		return p.err.Error(), -1
	}
}
