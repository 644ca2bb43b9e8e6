package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/buildinfo"
	"github.com/cutover/cutover/internal/preflight"
)

func (a *app) checkCmd() *cobra.Command {
	var in preflight.Input
	cmd := &cobra.Command{
		Use:   "check [--spec F | -f compose.yaml] [--dockerfile F]",
		Short: "Check a service for production readiness, here, without a daemon",
		Long: `Check a spec or compose file and its Dockerfile(s) (given, or found from build:) against
the production-readiness checklist: the image (root user, single stage, no HEALTHCHECK,
unpinned base, secrets in ENV/ARG, remote ADD, package caches, no .dockerignore) and the
service (no readiness probe, liveness equal to readiness, drain longer than stop_grace, no
resource limits, one replica, recreate, a canary that judges nothing, no rollback window, no
notifications, secrets in the spec, config gaps, and the migrations' lint). Each finding has
a severity, file:line and the fix. A comment "# +cutover check-override RULE reason: ..." in
the file keeps a finding from blocking.

-o text (default), json, or sarif (SARIF 2.1.0, for GitHub code scanning).
Exits 0 when no error is left, 10 when one is, 2 when the input cannot be checked at all
(bad flags, a file that cannot be read or does not parse).`,
		Example: `  cutover check --spec cutover.yaml --dockerfile Dockerfile
  cutover check -f compose.yaml -o sarif > cutover.sarif`,
		Annotations: map[string]string{"sarif": "true"},
		Args:        exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if in.Spec == "" && len(in.Compose) == 0 && in.Dockerfile == "" {
				return usagef("give --spec FILE, -f compose.yaml or --dockerfile FILE")
			}
			if in.Spec != "" && len(in.Compose) > 0 {
				return usagef("--spec and -f cannot be combined")
			}
			in.Env, in.Lint = environ(), a.lintFindings
			fs, err := preflight.Run(cmd.Context(), in)
			if err != nil {
				return &usageError{err: err}
			}
			return a.reportFindings(fs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Spec, "spec", "", "spec file to check")
	f.StringArrayVarP(&in.Compose, "file", "f", nil, "compose file to check (repeatable; later files override)")
	f.StringVar(&in.Dockerfile, "dockerfile", "", "Dockerfile to check (with -f: instead of those found from build:)")
	return cmd
}

// lintFindings lints a migrations directory as findings of the check.
func (a *app) lintFindings(dir, driver string) ([]preflight.Finding, error) {
	if a.cmds.LintMigrations == nil {
		return nil, nil
	}
	res, err := a.cmds.LintMigrations(dir, driver)
	if err != nil {
		return nil, err
	}
	out := make([]preflight.Finding, len(res.Findings))
	for i, l := range res.Findings {
		sev := preflight.Error
		if l.Severity == "warning" {
			sev = preflight.Warning
		}
		out[i] = preflight.Finding{Rule: "migration/" + l.Rule, Severity: sev, File: l.File, Line: l.Line,
			Message: l.Message, Fix: "take the safe alternative the message names, or override with -- +cutover lint-override " + l.Rule + " reason: ...",
			Override: l.Override, OverrideLine: l.OverrideLine}
	}
	return out, nil
}

func (a *app) reportFindings(fs []preflight.Finding) error {
	blocking := preflight.Blocking(fs)
	var err error
	switch a.output {
	case "sarif":
		err = preflight.SARIF(a.stdout, buildinfo.Read(Version).Version, fs)
	case "json":
		err = printJSON(a.stdout, map[string]any{"findings": nonNilFindings(fs), "blocking": blocking})
	default:
		for _, f := range fs {
			line := fmt.Sprintf("%s:%d: %s %s: %s", f.File, f.Line, f.Severity, f.Rule, f.Message)
			if f.Override != "" {
				line += " (overridden: " + f.Override + ")"
			}
			fmt.Fprintf(a.stdout, "%s\n    fix: %s\n", line, f.Fix)
		}
		fmt.Fprintf(a.stdout, "%d finding(s), %d blocking\n", len(fs), blocking)
	}
	if err != nil {
		return err
	}
	if blocking > 0 {
		return &exitError{code: ExitFindings, err: fmt.Errorf("%d blocking finding(s)", blocking), silent: a.output != "text"}
	}
	return nil
}

func nonNilFindings(fs []preflight.Finding) []preflight.Finding {
	if fs == nil {
		return []preflight.Finding{}
	}
	return fs
}
