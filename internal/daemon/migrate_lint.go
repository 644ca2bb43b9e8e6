package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/migrate"
)

// LintWithBinary returns a Linter that runs `bin migrate lint -o json DIR`, a cutover
// binary, in a child process: the parser's memory is given back when it exits, and a test
// binary built with the race detector (which makes the WebAssembly parser compile for over
// a minute) can lint with a binary built without it.
func LintWithBinary(bin string) Linter {
	return func(ctx context.Context, dir string, _ []migrate.Migration) ([]migrate.Finding, error) {
		out, err := exec.CommandContext(ctx, bin, "migrate", "lint", "-o", "json", dir).Output()
		var ee *exec.ExitError
		if err != nil && (!errors.As(err, &ee) || ee.ExitCode() != ExitLintBlocking) {
			return nil, fmt.Errorf("%s migrate lint: %w: %s", bin, err, lastLines(string(stderrOf(err)), 5, 500))
		}
		var res api.MigrationLint
		if err := json.Unmarshal(out, &res); err != nil {
			return nil, fmt.Errorf("%s migrate lint: read its answer: %w", bin, err)
		}
		found := make([]migrate.Finding, 0, len(res.Findings))
		for _, f := range res.Findings {
			mf := migrate.Finding{Rule: f.Rule, File: f.File, Line: f.Line, Version: f.Version, Phase: migrate.Phase(f.Phase), Message: f.Message}
			if f.Override != "" {
				mf.Override = &migrate.Override{Rule: f.Rule, Reason: f.Override, Line: f.OverrideLine}
			}
			found = append(found, mf)
		}
		return found, nil
	}
}

// ExitLintBlocking is the exit code of `cutover migrate lint` when a finding blocks (the
// CLI's usage/invalid-input code).
const ExitLintBlocking = 2

func stderrOf(err error) []byte {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Stderr
	}
	return nil
}
