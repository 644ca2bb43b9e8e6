package crashpoint

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// TestReach runs this test binary again with CUTOVER_FAULT set: the child passes a nil point
// and another step, then dies of SIGKILL at its own step, before the line after it.
func TestReach(t *testing.T) {
	if os.Getenv("CRASHPOINT_TEST_CHILD") != "" {
		var none *At
		none.Reach("step-b")
		at := FromEnv()
		at.Reach("step-a")
		os.Stdout.WriteString("passed step-a\n")
		at.Reach("step-b")
		os.Stdout.WriteString("passed step-b\n")
		os.Exit(0)
	}
	if FromEnv() != nil && os.Getenv(Env) == "" {
		t.Fatalf("FromEnv with %s unset is not nil", Env)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReach$")
	cmd.Env = append(os.Environ(), "CRASHPOINT_TEST_CHILD=1", Env+"=step-b")
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL", err)
	}
	if string(out) != "passed step-a\n" {
		t.Errorf("child printed %q, want only the line before step-b", out)
	}
}
