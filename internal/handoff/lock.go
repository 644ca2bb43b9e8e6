package handoff

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// ErrLocked is returned (wrapped) by Lock when another process holds the lock.
var ErrLocked = errors.New("in use by another process")

// Lock takes an exclusive flock on path (created owner-only) without waiting and writes this
// process's pid into it. The lock belongs to the open file: a successor that inherits the
// descriptor holds it too, and it is released when the last holder closes it or exits.
// When held elsewhere the error wraps ErrLocked and names the pid written there.
func Lock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := make([]byte, 32)
		n, _ := f.ReadAt(holder, 0)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w (pid %s)", path, ErrLocked, strings.TrimSpace(string(holder[:n])))
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := WritePID(f, os.Getpid()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// WritePID replaces the content of an open lock file with pid, for error messages.
func WritePID(f *os.File, pid int) error {
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("write pid to %s: %w", f.Name(), err)
	}
	if _, err := f.WriteAt([]byte(fmt.Sprintf("%d\n", pid)), 0); err != nil {
		return fmt.Errorf("write pid to %s: %w", f.Name(), err)
	}
	return nil
}
