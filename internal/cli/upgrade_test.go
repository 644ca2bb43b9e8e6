package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cli"
)

// TestUpgradeBadInput: without a daemon, or with a bad pid file or flag, `cutover upgrade`
// fails with an error naming what is wrong, and signals nothing.
func TestUpgradeBadInput(t *testing.T) {
	state := t.TempDir()
	r := runWith(t, cli.Commands{}, "--state", state, "upgrade")
	if r.code != cli.ExitError || !strings.Contains(r.stderr, "no daemon serves "+state) {
		t.Errorf("upgrade without a daemon: exit %d, stderr %q", r.code, r.stderr)
	}
	if err := os.WriteFile(filepath.Join(state, "cutover.pid"), []byte("nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runWith(t, cli.Commands{}, "--state", state, "upgrade")
	if r.code != cli.ExitError || !strings.Contains(r.stderr, `"nope" is not a pid`) {
		t.Errorf("upgrade with a bad pid file: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runWith(t, cli.Commands{}, "--state", state, "upgrade", "--timeout", "0s")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--timeout") {
		t.Errorf("upgrade --timeout 0s: exit %d, stderr %q", r.code, r.stderr)
	}
}
