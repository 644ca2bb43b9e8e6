//go:build unix

package procgroup

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
)

// Command is exec.CommandContext with the command in a process group of its own: when ctx
// is done before the command exits, the whole group gets SIGKILL, so that `sh -c "sleep 10"`
// does not leave its sleep behind.
func Command(ctx context.Context, name string, arg ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, arg...)
	cmd.SysProcAttr = Attr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

// Attr is the process attribute that starts a command as the leader of a new process
// group, whose id is then the command's pid. For a process that must outlive the caller's
// context (an instance), set it on an exec.Cmd and end the group with Signal.
func Attr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// Signal sends sig to the process group pgid; a group that is already gone is not an error.
func Signal(pgid int, sig syscall.Signal) error {
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal process group %d: %w", pgid, err)
	}
	return nil
}

// Alive reports whether a process of the group pgid can still be signalled.
func Alive(pgid int) bool {
	return syscall.Kill(-pgid, 0) == nil
}
