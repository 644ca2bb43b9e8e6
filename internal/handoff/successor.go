package handoff

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Command describes a successor process.
type Command struct {
	// Path is the executable; Args its argv, Args[0] included.
	Path string
	Args []string
	// Env is its environment without Env (nil: this process's); Env is set by Start.
	Env []string
	// Stdout and Stderr are its output streams (nil: discarded).
	Stdout, Stderr *os.File
	// Lock, when set, is the state lock it inherits.
	Lock *os.File
	// Listeners are the listeners it inherits, under their names (see Listeners.Files).
	Listeners []NamedFile
}

// Successor is a started successor process that has not said it is ready yet.
type Successor struct {
	proc  *os.Process
	ready *os.File // the pipe's read end
}

// Start starts the successor with the lock, the listeners and a readiness pipe as inherited
// descriptors named in Env. It does not close c's files: the caller still holds them.
//
// It forks with raw descriptors rather than through os/exec, which would call File.Fd and so
// switch the listening sockets, shared with this process's listeners, to blocking mode: an
// Accept of this process would then block in the kernel and its Close would wait for the
// next connection.
func Start(c Command) (*Successor, error) {
	if c.Path == "" || len(c.Args) == 0 {
		return nil, errors.New("start successor: no executable")
	}
	for _, nf := range c.Listeners {
		if err := checkName(nf.Name); err != nil || nf.Name == readyName || nf.Name == lockName {
			return nil, fmt.Errorf("start successor: listener name %q: reserved, empty or with a comma", nf.Name)
		}
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("start successor: %w", err)
	}
	defer devNull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start successor: readiness pipe: %w", err)
	}
	defer w.Close() // the successor has its own copy
	names := []string{readyName}
	files := []*os.File{devNull, orFile(c.Stdout, devNull), orFile(c.Stderr, devNull), w}
	if c.Lock != nil {
		names, files = append(names, lockName), append(files, c.Lock)
	}
	for _, nf := range c.Listeners {
		names, files = append(names, nf.Name), append(files, nf.File)
	}
	env := c.Env
	if env == nil {
		env = os.Environ()
	}
	env = append(withoutEnv(env), Env+"="+strings.Join(names, ","))
	pid, err := forkExec(c.Path, c.Args, env, files)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("start successor %s: %w", c.Path, err)
	}
	proc, err := os.FindProcess(pid)
	if err != nil { // not on Unix
		r.Close()
		return nil, fmt.Errorf("start successor %s: %w", c.Path, err)
	}
	return &Successor{proc: proc, ready: r}, nil
}

func orFile(f, alt *os.File) *os.File {
	if f == nil {
		return alt
	}
	return f
}

// forkExec starts path with files as descriptors 0, 1, 2, 3... reading each descriptor
// without changing its blocking mode.
func forkExec(path string, argv, env []string, files []*os.File) (int, error) {
	fds := make([]uintptr, len(files))
	for i, f := range files {
		rc, err := f.SyscallConn()
		if err != nil {
			return 0, fmt.Errorf("descriptor of %s: %w", f.Name(), err)
		}
		if err := rc.Control(func(fd uintptr) { fds[i] = fd }); err != nil {
			return 0, fmt.Errorf("descriptor of %s: %w", f.Name(), err)
		}
	}
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Env: env, Files: fds})
	// The descriptors must stay open until the fork is done.
	for _, f := range files {
		runtime.KeepAlive(f)
	}
	return pid, err
}

// PID is the successor's process id.
func (s *Successor) PID() int { return s.proc.Pid }

// WaitReady waits until the successor says it is ready and returns the message it sent. If
// the successor exits or closes the pipe first, or ctx ends first, WaitReady kills it (a no-op
// once it exited), reaps it and returns an error saying why. After success the successor is
// on its own: it outlives this process.
func (s *Successor) WaitReady(ctx context.Context) (string, error) {
	defer s.ready.Close()
	stop := context.AfterFunc(ctx, func() { _ = s.ready.SetReadDeadline(time.Now()) })
	defer stop()
	line, err := bufio.NewReader(s.ready).ReadString('\n')
	if err == nil && strings.HasPrefix(line, readyPrefix) {
		return strings.TrimSuffix(strings.TrimPrefix(line, readyPrefix), "\n"), nil
	}
	_ = s.proc.Kill()
	state, waitErr := s.proc.Wait()
	if waitErr == nil && !state.Success() {
		waitErr = errors.New(state.String())
	}
	switch {
	case ctx.Err() != nil:
		return "", fmt.Errorf("successor %d not ready: %w", s.PID(), ctx.Err())
	case waitErr != nil:
		return "", fmt.Errorf("successor %d exited before it was ready: %w", s.PID(), waitErr)
	case err == nil:
		return "", fmt.Errorf("successor %d sent %q instead of ready", s.PID(), line)
	}
	return "", fmt.Errorf("successor %d closed its readiness pipe before it was ready", s.PID())
}

func withoutEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, Env+"=") {
			out = append(out, kv)
		}
	}
	return out
}
