package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
)

// defaultWaitTimeout bounds --wait unless --timeout says otherwise.
const defaultWaitTimeout = 30 * time.Minute

// waitFlags are the flags of commands that can wait for their deployment.
type waitFlags struct {
	wait    bool
	timeout time.Duration
}

func (w *waitFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&w.wait, "wait", false, "follow the deployment until it ends; the exit code tells how")
	cmd.Flags().DurationVar(&w.timeout, "timeout", defaultWaitTimeout,
		"with --wait, stop waiting after this long (exit 6; the deployment continues)")
}

func (w *waitFlags) check() error {
	if w.timeout <= 0 {
		return usagef("--timeout %v: want a positive duration such as 10m", w.timeout)
	}
	return nil
}

func (a *app) deployCmd() *cobra.Command {
	var req api.DeployRequest
	var specFile string
	var composeFiles []string
	var dryRun bool
	var wf waitFlags
	var pf promoteFlags
	cmd := &cobra.Command{
		Use:   "deploy SERVICE | deploy -f compose.yaml [SERVICE...]",
		Short: "Deploy a new revision of a service",
		Long: `Deploy a new revision of a service: a new spec (--spec), a new image (--image) or
overrides (--set, --env) of the spec of the stable revision, the one that serves: a revision
that failed or was rolled back passes none of its changes on. --env KEY- removes KEY. The
daemon validates the spec, records the revision and starts a deployment under the service's
strategy.

--from CONTEXT promotes: it deploys the revision that succeeded in the daemon of that
context (its stable one, or --revision N) here, with this environment's run.env, hooks' env,
route and secrets (see 'cutover context'); --set and --env still apply on top.

Without --wait it returns once the deployment has started. With --wait it prints the
deployment's progress until it ends, and its exit code says how it ended.

` + exitCodesHelp,
		Example: `  cutover deploy web --spec cutover.yaml --wait
  cutover deploy web --image registry.example.com/web:1.4.2 --message "fix login" --wait --timeout 10m
  cutover deploy web --set replicas=3 --env LOG_LEVEL=debug
  cutover deploy web --env DEBUG-
  cat web.yaml | cutover deploy web --spec -
  cutover deploy -f compose.yaml web worker --wait
  cutover deploy -f compose.yaml --dry-run
  cutover --context production deploy web --from staging --wait`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(composeFiles) > 0 {
				return nil
			}
			return exactArgs("SERVICE")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(composeFiles) > 0 {
				if specFile != "" || req.Image != "" || len(req.Set) > 0 || len(req.Env) > 0 {
					return usagef("-f cannot be combined with --spec, --image, --set or --env")
				}
				return a.deployCompose(cmd.Context(), composeFiles, args, req.Message, wf, dryRun)
			}
			if dryRun {
				return usagef("--dry-run plans a compose stack: give -f compose.yaml")
			}
			req.Service = args[0]
			if pf.from != "" {
				if specFile != "" || req.Image != "" {
					return usagef("--from deploys the revision of another environment: it cannot be combined with --spec or --image")
				}
				p, err := a.promotion(cmd.Context(), req.Service, pf)
				if err != nil {
					return err
				}
				req.Promotion = &p
			} else if pf.revision != 0 {
				return usagef("--revision needs --from")
			}
			return a.deploy(cmd.Context(), req, specFile, wf)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&composeFiles, "file", "f", nil, "compose file to deploy services from (repeatable; later files override)")
	f.BoolVar(&dryRun, "dry-run", false, "with -f, print what would be deployed (each service's kind, strategy and changes) and change nothing")
	f.StringVar(&specFile, "spec", "", "spec file to deploy (- reads standard input)")
	f.StringArrayVar(&req.Set, "set", nil, "override a spec field, path=value (repeatable): --set replicas=3")
	f.StringArrayVar(&req.Env, "env", nil, "set an environment variable, KEY=VALUE, or remove one, KEY- (repeatable)")
	f.StringVar(&req.Image, "image", "", "container image of the new revision")
	f.StringVar(&req.Message, "message", "", "note recorded with the revision")
	f.StringVar(&pf.from, "from", "", "promote the revision that succeeded in this context's daemon (see 'cutover context')")
	f.IntVar(&pf.revision, "revision", 0, "with --from, that revision rather than the stable one")
	wf.add(cmd)
	return cmd
}

func (a *app) deploy(ctx context.Context, req api.DeployRequest, specFile string, wf waitFlags) error {
	if err := wf.check(); err != nil {
		return err
	}
	if err := checkPairs("--set", req.Set); err != nil {
		return err
	}
	if err := checkEnv(req.Env); err != nil {
		return err
	}
	if specFile != "" {
		data, err := a.readInput(specFile)
		if err != nil {
			return &usageError{err: fmt.Errorf("read spec: %w", err)}
		}
		if data, err = absMigrations(data, specFile); err != nil {
			return &usageError{err: err}
		}
		req.Spec, req.SpecFile = string(data), specFile
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	d, err := c.Deploy(ctx, req)
	if err != nil {
		return err
	}
	return a.afterStart(ctx, c, d, wf)
}

func (a *app) rollbackCmd() *cobra.Command {
	var req api.RollbackRequest
	var wf waitFlags
	cmd := &cobra.Command{
		Use:   "rollback SERVICE",
		Short: "Return a service to an earlier revision",
		Long: `Return a service to an earlier revision (by default the one before the stable one)
through a deployment under the service's strategy. A blue-green service whose previous
revision is still warm switches back at once.

Only the daemon's services (routed ones, in a compose stack) are rolled back. A stack's
stateful, worker and job services are not: their data or side effects may not go back
with their image. Deploy the compose file of the version to return to instead
(cutover deploy -f compose.yaml); volumes and their data stay.

A rollback to a revision that predates a database contract part already applied (the
contract dropped what it needs) is refused (exit 7) unless --force --reason TEXT, which
is recorded as a rollback_forced event.

` + exitCodesHelp,
		Example: `  cutover rollback web --wait
  cutover rollback web --to 3
  cutover rollback web --to 3 --force --reason "revision 3 never reads users.name"`,
		Args: exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := wf.check(); err != nil {
				return err
			}
			if req.To < 0 {
				return usagef("--to %d: want a revision number", req.To)
			}
			if req.Force && strings.TrimSpace(req.Reason) == "" {
				return usagef("--force needs --reason TEXT, which is recorded")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			d, err := c.Rollback(cmd.Context(), args[0], req)
			if errors.Is(err, api.ErrNotFound) {
				return fmt.Errorf("%w\n%s", err, stackRollbackHint(args[0]))
			}
			if err != nil {
				return err
			}
			return a.afterStart(cmd.Context(), c, d, wf)
		},
	}
	cmd.Flags().IntVar(&req.To, "to", 0, "revision to return to (default: the one before stable)")
	cmd.Flags().BoolVar(&req.Force, "force", false, "roll back even to a revision that predates an applied database contract (needs --reason)")
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why --force is safe; recorded as an event")
	wf.add(cmd)
	return cmd
}

// afterStart reports a deployment just started, and waits for it when asked.
func (a *app) afterStart(ctx context.Context, c *api.Client, d api.Deployment, wf waitFlags) error {
	for _, w := range d.Warnings {
		fmt.Fprintln(a.stderr, "warning: "+w)
	}
	if !wf.wait {
		if a.json() {
			return printJSON(a.stdout, d)
		}
		fmt.Fprintln(a.stdout, started(d))
		return nil
	}
	if !a.json() {
		fmt.Fprintln(a.stdout, started(d))
	}
	return a.await(ctx, c, d, wf.timeout)
}

// checkPairs requires every value to be key=value with a non-empty key.
func checkPairs(flag string, values []string) error {
	for _, v := range values {
		if k, _, ok := strings.Cut(v, "="); !ok || strings.TrimSpace(k) == "" {
			return usagef("%s %q: want key=value", flag, v)
		}
	}
	return nil
}

// checkEnv requires every --env value to be KEY=VALUE or KEY- (remove KEY).
func checkEnv(values []string) error {
	for _, v := range values {
		if k, ok := strings.CutSuffix(v, "-"); ok && strings.TrimSpace(k) != "" && !strings.Contains(k, "=") {
			continue
		}
		if k, _, ok := strings.Cut(v, "="); !ok || strings.TrimSpace(k) == "" {
			return usagef("--env %q: want KEY=VALUE, or KEY- to remove KEY", v)
		}
	}
	return nil
}

// readInput reads a file, or standard input for "-".
func (a *app) readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(a.stdin)
	}
	return os.ReadFile(name)
}

// stackRollbackHint says what to do for a service the daemon does not know, which may be
// one of a stack's stateful, worker or job services.
func stackRollbackHint(service string) string {
	return fmt.Sprintf("if %s is a stateful, worker or job service of a compose stack, cutover does not roll it back "+
		"(its data or side effects may not go back with its image): deploy the compose file of the version to return to, "+
		"cutover deploy -f compose.yaml; its volumes and their data stay", service)
}
