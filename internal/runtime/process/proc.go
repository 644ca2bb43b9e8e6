package process

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cutover/cutover/internal/procgroup"
)

// proc is one process of an instance: the group leader of its own process group.
type proc struct {
	pid   int
	start uint64 // /proc/<pid>/stat field 22
	// exited is closed once a child of this daemon has been reaped, err holding what
	// Wait returned; nil for an adopted process, which is polled instead.
	exited chan struct{}
	err    error
}

// procStat reads the state letter (field 3) and start time (field 22, clock ticks after
// boot) of pid from /proc/<pid>/stat.
func procStat(pid int) (state byte, start uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces or ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f)+2)
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return f[0][0], start, nil
}

// running reports whether pid is the live (not zombie) process that started at start.
func running(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	state, st, err := procStat(pid)
	return err == nil && state != 'Z' && state != 'X' && st == start
}

// alive reports whether p has not exited yet.
func (p *proc) alive() bool {
	if p.exited != nil {
		select {
		case <-p.exited:
			return false
		default:
			return true
		}
	}
	return running(p.pid, p.start)
}

// waitGone waits until p has exited; it reports false when timeout passes or cancel is
// closed first. poll is how often an adopted process is checked.
func (p *proc) waitGone(timeout, poll time.Duration, cancel <-chan struct{}) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	if p.exited != nil {
		select {
		case <-p.exited:
			return true
		case <-timer.C:
		case <-cancel:
		}
		return !p.alive()
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for p.alive() {
		select {
		case <-tick.C:
		case <-timer.C:
			return !p.alive()
		case <-cancel:
			return !p.alive()
		}
	}
	return true
}

// signalGroup sends sig to p's process group; a group that is already gone is not an error.
func (p *proc) signalGroup(sig syscall.Signal) error {
	return procgroup.Signal(p.pid, sig)
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree reports whether port can be listened on at the loopback address.
func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
