//go:build !unix

package procgroup

import (
	"context"
	"os/exec"
)

// Command is exec.CommandContext: without process groups, only the command itself is
// killed when ctx is done.
func Command(ctx context.Context, name string, arg ...string) *exec.Cmd {
	return exec.CommandContext(ctx, name, arg...)
}
