package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/cutover/cutover/internal/procgroup"
	"github.com/cutover/cutover/internal/runtime"
)

// Start starts each spec's process, or adopts it when its ID already runs. Every spec is
// checked first (ID, directory, command), so a bad one starts nothing. Start returns once
// the processes exist; they are supervised until Stop or Close.
func (d *Driver) Start(ctx context.Context, specs []runtime.InstanceSpec) error {
	for _, s := range specs {
		if err := validID(s.ID); err != nil {
			return fmt.Errorf("start %s: %w", s.ID, err)
		}
		if _, err := resolveCommand(s); err != nil {
			return fmt.Errorf("start %s: %w", s.ID, err)
		}
	}
	for _, s := range specs {
		if err := d.start(s); err != nil {
			return fmt.Errorf("start %s: %w", s.ID, err)
		}
	}
	return nil
}

func (d *Driver) start(spec runtime.InstanceSpec) error {
	if d.tab.isClosed() {
		return errClosed
	}
	inst, err := d.load(spec.ID, true)
	if err != nil {
		return err
	}
	return inst.with(func() error { return d.startLocked(inst, spec) })
}

// startLocked starts inst from spec unless it runs; inst.mu must be held.
func (d *Driver) startLocked(inst *instance, spec runtime.InstanceSpec) error {
	busy := inst.known && (inst.supervised != nil || (inst.proc != nil && inst.proc.alive()))
	if busy && inst.stopping {
		return errors.New("instance is stopping")
	}
	if busy {
		// Already running: adopt it rather than start a second process.
		d.superviseLocked(inst)
		return nil
	}
	old, wasKnown := inst.rec, inst.known
	inst.rec = record{Spec: spec, Port: spec.Port}
	inst.history = crashHistory{}
	inst.stopping = false
	if err := d.spawnLocked(inst, true); err != nil {
		// Nothing started: the record written before the fork goes back to what it was.
		inst.rec = old
		if wasKnown {
			err = errors.Join(err, d.recs.save(old))
		} else {
			err = errors.Join(err, d.recs.remove(inst.id))
			d.tab.forget(inst)
		}
		return err
	}
	inst.known = true
	d.superviseLocked(inst)
	return nil
}

// spawnLocked starts a new process for inst and records it; inst.mu must be held. first is
// false for restarts, which move to a new port when theirs is taken.
//
// The record is written (and synced) before the fork, with a spawn mark that the process
// carries in its environment: a daemon killed between the fork and the record of the pid
// leaves a record by which the next daemon finds the process (resolveSpawn), never an
// orphan that no record claims.
func (d *Driver) spawnLocked(inst *instance, first bool) error {
	spec := inst.rec.Spec
	path, err := resolveCommand(spec)
	if err != nil {
		return err
	}
	port, err := d.choosePort(inst, first)
	if err != nil {
		return err
	}
	oldPort := inst.rec.Port
	failed := func(err error) error {
		if port != oldPort {
			d.tab.releasePort(port, inst.id)
		}
		inst.rec.Port = oldPort
		return err
	}
	inst.rec.Spawn = newSpawnMark()
	inst.rec.PID, inst.rec.PGID, inst.rec.StartTicks = 0, 0, 0
	inst.rec.Port = port
	inst.rec.Stopped = false
	d.opts.Crash.Reach("spawn-record-before")
	if err := d.recs.saveBeforeFork(inst.rec); err != nil {
		return failed(err)
	}
	d.opts.Crash.Reach("spawn-fork-before")
	p, err := startProc(command(path, spec, port, inst.rec.Spawn), d.logPath(inst.id))
	d.opts.Crash.Reach("spawn-fork-after")
	if err != nil {
		return failed(err)
	}
	inst.proc = p
	inst.state = runtime.StateRunning
	inst.rec.PID, inst.rec.PGID, inst.rec.StartTicks = p.pid, p.pid, p.start
	inst.rec.StartedAt = time.Now()
	if err := d.recs.save(inst.rec); err != nil {
		// The process runs, but no record says so: do not leave it for the spawn mark alone.
		p.signalGroup(syscall.SIGKILL)
		p.waitGone(5*time.Second, d.opts.PollInterval, nil)
		inst.proc, inst.state = nil, runtime.StateExited
		inst.rec.PID, inst.rec.PGID, inst.rec.StartTicks = 0, 0, 0
		return err
	}
	d.opts.Crash.Reach("spawn-record-after")
	d.logger.Info("instance started", "instance", inst.id, "service", spec.Service,
		"revision", spec.Revision, "pid", p.pid, "port", port, "restarts", inst.rec.Restarts)
	return nil
}

// command builds the exec.Cmd of one process, in its own process group, with its spawn
// mark in its environment.
func command(path string, spec runtime.InstanceSpec, port int, mark string) *exec.Cmd {
	return &exec.Cmd{
		Path:        path,
		Args:        append([]string{spec.Command}, spec.Args...),
		Env:         append(environ(spec.Env, port), spawnEnv+"="+mark),
		Dir:         spec.Dir,
		SysProcAttr: procgroup.Attr(),
	}
}

// startProc starts cmd with stdout and stderr appended to the file at logPath (a file, not
// a pipe, so the process outlives the daemon; 0600: an app may print its secrets) and reaps
// it in a goroutine once it exits.
// When cmd cannot start, a log file created for it is removed again.
func startProc(cmd *exec.Cmd, logPath string) (*proc, error) {
	_, statErr := os.Stat(logPath)
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	err = cmd.Start()
	logf.Close() // the child has its own copy
	if err != nil {
		if errors.Is(statErr, fs.ErrNotExist) {
			os.Remove(logPath)
		}
		return nil, err
	}
	pid := cmd.Process.Pid
	// Not reaped yet, so /proc/<pid> is there even if it exited at once.
	_, start, err := procStat(pid)
	if err != nil {
		procgroup.Signal(pid, syscall.SIGKILL)
		cmd.Wait()
		return nil, fmt.Errorf("read start time: %w", err)
	}
	p := &proc{pid: pid, start: start, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// choosePort returns the port for inst's next process: its recorded port, a free one when
// it has none, or, on a restart, a new one when another process took it meanwhile.
func (d *Driver) choosePort(inst *instance, first bool) (int, error) {
	port := inst.rec.Port
	if port != 0 && portFree(port) && d.tab.reservePort(port, inst.id) {
		return port, nil
	}
	for range 20 {
		p, err := freePort()
		if err != nil {
			return 0, err
		}
		if d.tab.reservePort(p, inst.id) {
			if port != 0 {
				d.tab.releasePort(port, inst.id)
				d.logger.Warn("instance port taken, moving", "instance", inst.id, "old_port", port, "port", p, "first_start", first)
			}
			return p, nil
		}
	}
	return 0, fmt.Errorf("pick free port: every port offered is already handed out")
}
