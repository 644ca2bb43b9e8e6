package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
)

// migrateCmd is the `cutover migrate` command group.
func (a *app) migrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Database migrations bound to deployments (expand before, contract after)",
		Long: `Database migrations of a service whose spec has a database section. A deployment runs
the pending expand parts before any instance of its revision starts, and the contract parts
once no revision that predates them runs (contract: after-promote, the default) or at the
start of the next deployment (contract: next-deploy). A rollback never runs a contract part;
down parts run only on 'cutover migrate down SERVICE --to V'.

status, plan, up, contract and down work on the service's stable revision through the
daemon; lint works on a directory here, without a daemon. See docs/migrations.md.`,
	}
	cmd.AddCommand(a.migrateStatusCmd(), a.migratePlanCmd(), a.migrateLintCmd(), a.migrateUpCmd(),
		a.migrateContractCmd(), a.migrateDownCmd())
	return cmd
}

func (a *app) migrateStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "status SERVICE",
		Short:   "Show which parts of each migration are applied and which revisions need them",
		Example: "  cutover migrate status web\n  cutover migrate status web -o json",
		Args:    exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			st, err := c.MigrationStatus(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, st)
			}
			printMigrationStatus(a.stdout, st)
			return nil
		},
	}
}

func printMigrationStatus(w io.Writer, st api.MigrationStatus) {
	fmt.Fprintf(w, "%s: %s migrations in %s (revision %d; running %s)\n", st.Service, st.Driver, st.Dir, st.Revision, intList(st.Running))
	t := newTable(w)
	row(t, "VERSION", "NAME", "EXPAND", "CONTRACT", "DOWN", "CARRIED BY", "CONTRACT WAITS FOR")
	for _, m := range st.Migrations {
		contract := "-"
		if m.HasContract || m.Contract != nil {
			contract = appliedCell(m.Contract)
		}
		down := "-"
		if m.HasDown {
			down = "yes"
		}
		name := m.Name
		if m.File == "" {
			name += " (not in directory)"
		}
		row(t, strconv.Itoa(m.Version), name, appliedCell(m.Expand), contract, down, intList(m.CarriedBy), intList(m.ContractBlockedBy))
	}
	t.Flush()
	for _, m := range st.Migrations {
		for _, c := range m.Changed {
			fmt.Fprintln(w, "changed: "+c)
		}
	}
	for _, m := range st.Migrations {
		if len(m.Incompatible) > 0 {
			fmt.Fprintf(w, "schema-incompatible: revision(s) %s predate the applied contract of migration %d; a rollback to them is refused without --force\n",
				intList(m.Incompatible), m.Version)
		}
	}
}

func appliedCell(a *api.MigrationApplied) string {
	if a == nil {
		return "pending"
	}
	return fmt.Sprintf("applied (rev %d, %dms)", a.Revision, a.DurationMS)
}

func intList(v []int) string {
	if len(v) == 0 {
		return "-"
	}
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (a *app) migratePlanCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "plan SERVICE",
		Short:   "Show what up and contract would apply now, changing nothing",
		Example: "  cutover migrate plan web",
		Args:    exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			p, err := c.MigrationPlan(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, p)
			}
			printSteps(a.stdout, "up (expand)", p.Expand)
			printSteps(a.stdout, "contract", p.Contract)
			return nil
		},
	}
}

func printSteps(w io.Writer, title string, steps []api.MigrationStep) {
	if len(steps) == 0 {
		fmt.Fprintf(w, "%s: nothing pending\n", title)
		return
	}
	fmt.Fprintf(w, "%s:\n", title)
	for _, s := range steps {
		line := fmt.Sprintf("  %d %s: %s part, %d statement(s) at %s:%d", s.Version, s.Name, s.Phase, s.Statements, s.File, s.Line)
		if s.NoTransaction {
			line += ", no transaction"
		}
		if s.Blocked != "" {
			line += " — waits: " + s.Blocked
		}
		fmt.Fprintln(w, line)
	}
}

func (a *app) migrateLintCmd() *cobra.Command {
	var driver string
	cmd := &cobra.Command{
		Use:   "lint DIR",
		Short: "Lint a migrations directory here, without a daemon",
		Long: `Check every migration file in DIR: file format, SQL syntax (the real PostgreSQL parser)
and, in expand and contract parts, changes that break the running revision or take long
locks, each with file:line, the rule and the safe alternative. A finding that the migration
overrides (-- +cutover lint-override RULE reason: ...) is shown but does not block.
Exits 0 when nothing blocks, 10 when a finding blocks (malformed SQL included), 2 when a
file's format is malformed (markers, directives) or DIR cannot be read.`,
		Example: "  cutover migrate lint ./migrations\n  cutover migrate lint ./migrations -o json",
		Args:    exactArgs("DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if driver != "postgres" && driver != "sqlite" {
				return usagef("--driver %q: want postgres or sqlite", driver)
			}
			if a.cmds.LintMigrations == nil {
				return errors.New("migrate lint: not available in this build")
			}
			res, err := a.cmds.LintMigrations(args[0], driver)
			if err != nil {
				return err
			}
			return a.reportLint(res)
		},
	}
	cmd.Flags().StringVar(&driver, "driver", "postgres", "database driver: postgres, or sqlite (checks the files only)")
	return cmd
}

func (a *app) reportLint(res api.MigrationLint) error {
	if a.json() {
		if err := printJSON(a.stdout, res); err != nil {
			return err
		}
	} else {
		for _, f := range res.Findings {
			line := fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Message)
			if f.Override != "" {
				line += " (overridden: " + f.Override + ")"
			}
			fmt.Fprintln(a.stdout, line)
		}
		fmt.Fprintf(a.stdout, "%s: %d finding(s), %d blocking\n", res.Dir, len(res.Findings), res.Blocking)
	}
	if res.Blocking > 0 {
		return &exitError{code: ExitFindings, err: fmt.Errorf("%d blocking lint finding(s) in %s", res.Blocking, res.Dir), silent: a.json()}
	}
	return nil
}

func (a *app) migrateUpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "up SERVICE",
		Short: "Apply the pending expand parts of the stable revision's migrations",
		Long: `Apply the pending expand parts of the stable revision's migrations now, outside a
deployment (a deployment does this by itself before its instances start). Refused while a
deployment of the service runs.`,
		Example: "  cutover migrate up web",
		Args:    exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.migrateRun(cmd, "up", args[0], api.MigrateRequest{}, (*api.Client).MigrateUp)
		},
	}
}

func (a *app) migrateContractCmd() *cobra.Command {
	var req api.MigrateRequest
	cmd := &cobra.Command{
		Use:   "contract SERVICE",
		Short: "Apply the pending contract parts that no running revision predates",
		Long: `Apply the pending contract parts of the stable revision's migrations. A part is refused
(exit 7) while an instance of a revision that predates it still runs, unless --force is given
with a --reason, which is recorded as an event.`,
		Example: "  cutover migrate contract web\n  cutover migrate contract web --force --reason \"old workers are drained\"",
		Args:    exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if req.Force && strings.TrimSpace(req.Reason) == "" {
				return usagef("--force needs --reason (it is recorded)")
			}
			return a.migrateRun(cmd, "contract", args[0], req, (*api.Client).MigrateContract)
		},
	}
	cmd.Flags().BoolVar(&req.Force, "force", false, "run even while a revision that predates a part still runs")
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why --force is safe (recorded)")
	return cmd
}

func (a *app) migrateDownCmd() *cobra.Command {
	var to int
	cmd := &cobra.Command{
		Use:   "down SERVICE --to VERSION",
		Short: "Run the down parts of every applied migration above VERSION, newest first",
		Long: `Undo the expand parts of every applied migration above --to, newest first, with their down
sections. Nothing runs if one of them has no down section or has its contract applied. This
is the only way down parts run: deployments and rollbacks never do.`,
		Example: "  cutover migrate down web --to 3",
		Args:    exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("to") {
				return usagef("--to VERSION is required: down runs only to an explicit version")
			}
			if to < 0 {
				return usagef("--to %d: want a version of 0 or more", to)
			}
			return a.migrateRun(cmd, "down", args[0], api.MigrateRequest{To: to}, (*api.Client).MigrateDown)
		},
	}
	cmd.Flags().IntVar(&to, "to", 0, "the version to keep: every applied migration above it is undone")
	return cmd
}

// migrateRun sends up, contract or down (what, run) and prints what was applied.
func (a *app) migrateRun(cmd *cobra.Command, what, service string, req api.MigrateRequest,
	run func(*api.Client, context.Context, string, api.MigrateRequest) (api.MigrationRun, error)) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	res, err := run(c, cmd.Context(), service, req)
	if err != nil {
		return fmt.Errorf("migrate %s %s: %w", what, service, err)
	}
	if a.json() {
		return printJSON(a.stdout, res)
	}
	if len(res.Applied) == 0 {
		fmt.Fprintf(a.stdout, "migrate %s %s: nothing to apply\n", what, service)
	}
	for _, ap := range res.Applied {
		fmt.Fprintf(a.stdout, "applied %d %s: %s part (revision %d, %dms)\n", ap.Version, ap.Name, ap.Phase, ap.Revision, ap.DurationMS)
	}
	return nil
}
