package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// actionHelp describes the operator actions.
var actionHelp = map[string]struct{ short, long string }{
	"pause": {"Pause a service's deployment at its current step",
		"Pause the service's active deployment where it stands; traffic stays as it is until 'cutover resume'."},
	"resume": {"Resume a paused deployment",
		"Resume the service's paused deployment from the step where it stopped."},
	"retry": {"Deploy again the revision whose latest deployment failed or was aborted",
		"Start a new deployment of the revision that the service's latest deployment tried to ship,\n" +
			"after it failed, was rolled back or aborted (for example once a dependency is fixed)."},
	"approve": {"Approve a deployment that waits for approval",
		"Approve the service's deployment that waits for an approval (a daemon started with\n" +
			"--require-approval): it needs a token of role approver or admin other than the one that\n" +
			"started the deployment. Who approved is recorded on the deployment and in its events."},
	"abort": {"Abort a deployment and return to the stable revision",
		"Abort the service's active deployment: traffic returns to the stable revision in one switch\n" +
			"and the new revision's instances drain and stop."},
}

// actionCmd builds pause, resume or abort.
func (a *app) actionCmd(action string) *cobra.Command {
	help := actionHelp[action]
	return &cobra.Command{
		Use:     action + " SERVICE",
		Short:   help.short,
		Long:    help.long,
		Example: "  cutover " + action + " web",
		Args:    exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.act(cmd.Context(), args[0], action)
		},
	}
}

func (a *app) promoteCmd() *cobra.Command {
	var full bool
	cmd := &cobra.Command{
		Use:   "promote SERVICE",
		Short: "Move a deployment past its pause (or, with --full, to the end)",
		Long: `Promote the service's active deployment: past a manual pause step (canary 'pause: {}'),
or with --full straight to 100% on the new revision, skipping the remaining steps and analysis.`,
		Example: `  cutover promote web
  cutover promote web --full`,
		Args: exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			action := "promote"
			if full {
				action = "promote_full"
			}
			return a.act(cmd.Context(), args[0], action)
		},
	}
	cmd.Flags().BoolVar(&full, "full", false, "skip every remaining step")
	return cmd
}

// act applies an action and prints the deployment it touched.
func (a *app) act(ctx context.Context, service, action string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	d, err := c.Act(ctx, service, action)
	if err != nil {
		return err
	}
	if a.json() {
		return printJSON(a.stdout, d)
	}
	fmt.Fprintf(a.stdout, "%s: deployment %s\n", action, deploymentSummary(&d))
	return nil
}

func (a *app) waitCmd() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "wait SERVICE",
		Short: "Wait for a service's running deployment to end",
		Long: `Follow the service's running deployment until it ends, printing its progress; with none
running, report how the latest one ended. The exit code tells the outcome, as for deploy --wait.`,
		Example: `  cutover deploy web --env VERSION=v2 && cutover wait web --timeout 10m`,
		Args:    exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if timeout <= 0 {
				return usagef("--timeout %v: want a positive duration such as 10m", timeout)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			deps, err := c.Deployments(cmd.Context(), args[0], 1)
			if err != nil {
				return err
			}
			if len(deps) == 0 {
				if _, err := c.Service(cmd.Context(), args[0]); err != nil {
					return err // not found: exit 8
				}
				return fmt.Errorf("service %s has no deployment", args[0])
			}
			return a.await(cmd.Context(), c, deps[0], timeout)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", defaultWaitTimeout, "stop waiting after this long (exit 6; the deployment continues)")
	return cmd
}
