// Package crashpoint lets a test kill the process at a named step of its work, as kill -9 or
// a power cut would, to prove what survives a crash at exactly that step rather than at a
// moment chosen by timing. The cutover binary names the step in CUTOVER_FAULT (FromEnv);
// with it unset, every point costs one nil check. It is for tests only: it owns no policy
// and nothing else in cutover may depend on a point being reached.
package crashpoint

import (
	"os"
	"syscall"
)

// Env is the environment variable naming the step to die at.
const Env = "CUTOVER_FAULT"

// At kills the process at one named step. The nil *At never does.
type At struct {
	step string
}

// FromEnv returns the point named in $CUTOVER_FAULT, or nil when it is unset or empty.
func FromEnv() *At {
	if step := os.Getenv(Env); step != "" {
		return &At{step: step}
	}
	return nil
}

// Reach kills the process with SIGKILL when step is the one a names; it does not return then.
// It is safe to call on a nil *At.
func (a *At) Reach(step string) {
	if a == nil || a.step != step {
		return
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way; nothing after the step may run
}
