package process

import (
	"fmt"
	"syscall"
	"time"

	"github.com/cutover/cutover/internal/procgroup"
	"github.com/cutover/cutover/internal/runtime"
)

// maxPortMoves bounds the restarts in a row, without a stable run between them, that move an
// instance to a new port without counting as crashes.
const maxPortMoves = 3

// movePort handles an exit caused by another process holding the instance's port (the app
// could not bind it): the port is still not free once the process and its group are gone.
// Such an exit is not a crash: it plans an immediate restart, on a new port (choosePort moves
// off a taken one), and reports true. inst.mu must be held.
func (d *Driver) movePort(inst *instance, p *proc, startedAt time.Time) bool {
	if !startedAt.IsZero() && time.Since(startedAt) >= d.opts.StableAfter {
		inst.history.portMoves = 0
	}
	port := inst.rec.Port
	if port == 0 || inst.history.portMoves >= maxPortMoves {
		return false
	}
	// What is left of the process group must not be what holds the port.
	_ = p.signalGroup(syscall.SIGKILL)
	p.waitGroupGone(time.Second, d.opts.PollInterval)
	if portFree(port) {
		return false
	}
	inst.history.portMoves++
	inst.state = runtime.StateRestarting
	inst.rec.Message = fmt.Sprintf("%s: port %d is taken by another process; restarting on a new port", inst.rec.Message, port)
	return true
}

// waitGroupGone waits up to timeout for every process of p's group to exit.
func (p *proc) waitGroupGone(timeout, poll time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !procgroup.Alive(p.pid) {
			return
		}
		time.Sleep(poll)
	}
}
