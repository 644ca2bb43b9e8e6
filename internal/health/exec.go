package health

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/procgroup"
	"github.com/cutover/cutover/internal/spec"
)

// Exec probe limits: how much of the output's end an error quotes, and how long a killed
// command's stray children may keep its output open before Wait gives up on them.
const (
	outputTail    = 512
	execWaitDelay = 500 * time.Millisecond
)

// checkExec runs the exec probe's command with t's env and dir. ctx carries the timeout;
// on expiry the command and its process group are killed.
func checkExec(ctx context.Context, p spec.Probe, t Target) error {
	argv := p.Exec.Command
	if len(argv) == 0 {
		return errors.New("exec: no command")
	}
	cmd := procgroup.Command(ctx, argv[0], argv[1:]...)
	cmd.Env = execEnv(t.Env)
	cmd.Dir = t.Dir
	cmd.WaitDelay = execWaitDelay
	out, err := procgroup.CombinedOutput(cmd, outputTail)
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timeout after %v: %w", p.Timeout.D(), context.DeadlineExceeded)
	}
	if tail := strings.TrimSpace(string(out)); tail != "" {
		return fmt.Errorf("exec %s: %w: %s", argv[0], err, tail)
	}
	return fmt.Errorf("exec %s: %w", argv[0], err)
}

// execEnv turns env into a process environment. PATH is taken from the daemon when env
// has none, so that a probe like ["sh", "-c", "curl …"] finds its tools.
func execEnv(env map[string]string) []string {
	list := make([]string, 0, len(env)+1)
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	if _, ok := env["PATH"]; !ok {
		if path, ok := os.LookupEnv("PATH"); ok {
			list = append(list, "PATH="+path)
		}
	}
	return list
}
