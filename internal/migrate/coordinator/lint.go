package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/procgroup"
	"github.com/cutover/cutover/internal/spec"
)

// Linter lints loaded migrations whose files are in dir; see Config.Lint.
type Linter func(ctx context.Context, dir string, migs []migrate.Migration) ([]migrate.Finding, error)

// ExitLintBlocking is the exit code of `cutover migrate lint` when a finding blocks (the
// CLI's ExitFindings; 2 would mean the directory could not be linted).
const ExitLintBlocking = 10

// LintWithBinary returns a Linter that runs `bin migrate lint -o json DIR`, a cutover
// binary, in a child process: the parser's memory is given back when it exits, and a test
// binary built with the race detector (which makes the WebAssembly parser compile for over
// a minute) can lint with a binary built without it.
func LintWithBinary(bin string) Linter {
	return func(ctx context.Context, dir string, _ []migrate.Migration) ([]migrate.Finding, error) {
		out, err := exec.CommandContext(ctx, bin, "migrate", "lint", "-o", "json", dir).Output()
		var ee *exec.ExitError
		if err != nil && (!errors.As(err, &ee) || ee.ExitCode() != ExitLintBlocking) {
			return nil, fmt.Errorf("%s migrate lint: %w: %s", bin, err, procgroup.LastLines(string(stderrOf(err)), 5, 500))
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

// LintMigrations loads and lints a migrations directory here, without a daemon, for
// `cutover migrate lint`. With driver sqlite only the files are checked (the linter speaks
// PostgreSQL). A directory that does not load is an error naming file:line.
func LintMigrations(dir, driver string) (api.MigrationLint, error) {
	res := api.MigrationLint{Dir: dir, Findings: []api.LintFinding{}}
	migs, err := migrate.Load(dir)
	if err != nil {
		return res, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	if driver == spec.DriverSQLite {
		return res, nil
	}
	for _, f := range migrate.Lint(migs) {
		lf := api.LintFinding{File: f.File, Line: f.Line, Rule: f.Rule, Version: f.Version, Phase: string(f.Phase), Message: f.Message}
		lf.Severity = "error"
		if f.Style() {
			lf.Severity = "warning"
		}
		if f.Override != nil {
			lf.Override, lf.OverrideLine = f.Override.Reason, f.Override.Line
		}
		if f.Blocks() {
			res.Blocking++
		}
		res.Findings = append(res.Findings, lf)
	}
	return res, nil
}

func stderrOf(err error) []byte {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Stderr
	}
	return nil
}
