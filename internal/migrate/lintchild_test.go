package migrate

import (
	"os"
	"os/exec"
	"testing"
)

// The race detector makes wazero compile go-pgquery's WebAssembly parser about ten times
// slower (over a minute on a 2-core machine), and the linter starts no goroutines of its own.
// So under -race the TestLint* tests run once, without -race, in a child `go test`, and this
// test fails when they fail there.

const lintChildEnv = "CUTOVER_MIGRATE_LINT_CHILD"

// lintOutsideRace skips a lint test in a -race run; TestLintWithoutRace runs it instead.
func lintOutsideRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("run without -race by TestLintWithoutRace")
	}
}

func TestLintWithoutRace(t *testing.T) {
	if !raceEnabled {
		t.Skip("the TestLint* tests run directly in this build")
	}
	if os.Getenv(lintChildEnv) != "" {
		t.Fatal("child process built with -race")
	}
	cmd := exec.CommandContext(t.Context(), "go", "test", "-count=1", "-run", "^TestLint", ".")
	cmd.Env = append(os.Environ(), lintChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test -run ^TestLint (without -race): %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
