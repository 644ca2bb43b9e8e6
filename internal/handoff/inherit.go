package handoff

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// Env is the environment variable that names the inherited descriptors: a comma-separated
// list whose i-th name is descriptor 3+i (the order of exec.Cmd.ExtraFiles).
const Env = "CUTOVER_HANDOFF_FDS"

// Reserved names: the readiness pipe and the state-directory lock.
const (
	readyName = "ready"
	lockName  = "lock"
)

// NamedFile is a descriptor passed to a successor under a name.
type NamedFile struct {
	Name string
	File *os.File
}

// CloseFiles closes every file of fs.
func CloseFiles(fs []NamedFile) {
	for _, f := range fs {
		f.File.Close()
	}
}

// Inherited is what a process got from the one it replaces: its listeners, its state lock
// and the pipe on which to say it is ready. The zero value (from Inherit with an empty
// value) inherited nothing.
type Inherited struct {
	// Listeners hands out the inherited listeners first; never nil.
	Listeners *Listeners
	// NotifySocket is systemd's notification socket (the value of NotifyEnv), "" for none;
	// set by the caller.
	NotifySocket string
	ready        *os.File
	lock         *os.File
}

// Inherit takes over the descriptors that value (the content of Env; empty for none) names.
// It marks each close-on-exec at once, so that no process started later inherits them, and
// refuses a malformed value or a descriptor that is not open.
func Inherit(value string) (*Inherited, error) {
	in := &Inherited{Listeners: NewListeners()}
	if value == "" {
		return in, nil
	}
	names := strings.Split(value, ",")
	seen := map[string]bool{}
	for i, name := range names {
		if err := checkName(name); err != nil || seen[name] {
			return nil, fmt.Errorf("%s: entry %d %q: empty or repeated name", Env, i+1, name)
		}
		seen[name] = true
		fd := 3 + i
		if err := checkOpen(fd); err != nil {
			return nil, fmt.Errorf("%s: %s (descriptor %d): %w", Env, name, fd, err)
		}
		syscall.CloseOnExec(fd)
		f := os.NewFile(uintptr(fd), name)
		switch name {
		case readyName:
			in.ready = f
		case lockName:
			in.lock = f
		default:
			in.Listeners.inherited[name] = f
		}
	}
	return in, nil
}

// Ready tells the process that started this one that it serves, with a one-line message
// (e.g. its version). It is a no-op for a process that inherited nothing. Only the first call
// writes.
func (in *Inherited) Ready(message string) error {
	if in == nil || in.ready == nil {
		return nil
	}
	f := in.ready
	in.ready = nil
	defer f.Close()
	if _, err := f.WriteString(readyPrefix + strings.ReplaceAll(message, "\n", " ") + "\n"); err != nil {
		return fmt.Errorf("signal ready: %w", err)
	}
	return nil
}

// Lock returns the inherited state lock, or nil. The caller owns it from then on.
func (in *Inherited) Lock() *os.File {
	if in == nil {
		return nil
	}
	f := in.lock
	in.lock = nil
	return f
}

const readyPrefix = "ready "

func checkName(name string) error {
	if name == "" || strings.ContainsAny(name, ",\x00") {
		return errors.New("a name must be non-empty and hold no comma")
	}
	return nil
}

// checkOpen fails when fd is not an open descriptor (fcntl F_GETFD answers EBADF).
func checkOpen(fd int) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0); errno != 0 {
		return errno
	}
	return nil
}
