package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
)

func (a *app) logsCmd() *cobra.Command {
	var rev int
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs SERVICE",
		Short: "Print a service's instance logs",
		Long: `Print the logs of a service's instances, of every revision (or one with --revision),
each line prefixed with its instance. With -o json each line is a JSON object of its own
(instance, line).`,
		Example: `  cutover logs web
  cutover logs web --revision 4 -f
  cutover logs web -o json | jq -r 'select(.instance | startswith("web-4-")) | .line'`,
		Args: exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if rev < 0 {
				return usagef("--revision %d: want a revision number", rev)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var out io.Writer = a.stdout
			if a.json() {
				jw := &jsonLinesWriter{w: a.stdout}
				defer jw.Flush()
				out = jw
			}
			if err := c.Logs(cmd.Context(), args[0], rev, follow, out); err != nil && cmd.Context().Err() == nil {
				return err
			}
			return nil // Ctrl-C ends a follow
		},
	}
	cmd.Flags().IntVar(&rev, "revision", 0, "only this revision's instances")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until Ctrl-C")
	return cmd
}

func (a *app) eventsCmd() *cobra.Command {
	var q api.EventQuery
	var follow bool
	cmd := &cobra.Command{
		Use:   "events [SERVICE]",
		Short: "Print recorded events (deployments, instances, traffic)",
		Long: `Print the latest recorded events, of every service or of one. With --follow, keep
printing new ones as they happen until Ctrl-C; with -o json each one is a JSON line.`,
		Example: `  cutover events web
  cutover events --deployment 7 --follow
  cutover events -f -o json | jq -c 'select(.type == "deployment_failed")'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				q.Service = args[0]
			}
			if q.Limit <= 0 || q.DeploymentID < 0 {
				return usagef("--limit and --deployment want positive numbers")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			return a.events(cmd.Context(), c, q, follow)
		},
	}
	cmd.Flags().Int64Var(&q.DeploymentID, "deployment", 0, "only this deployment's events")
	cmd.Flags().IntVar(&q.Limit, "limit", 20, "print at most this many of the existing events (the latest)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events until Ctrl-C")
	return cmd
}

// events prints the last q.Limit events, then, with follow, new ones until ctx ends.
func (a *app) events(ctx context.Context, c *api.Client, q api.EventQuery, follow bool) error {
	keep := q.Limit
	var last []api.Event
	for q.Limit = eventsPage; ; {
		page, err := c.Events(ctx, q, 0)
		if err != nil {
			return err
		}
		last = append(last, page...)
		last = last[max(0, len(last)-keep):]
		if len(page) == 0 {
			break
		}
		q.AfterID = page[len(page)-1].ID
	}
	if !follow {
		if a.json() {
			return printJSON(a.stdout, last)
		}
		a.printEvents(last)
		return nil
	}
	for {
		a.printEvents(last)
		if len(last) > 0 {
			q.AfterID = last[len(last)-1].ID
		}
		var err error
		if last, err = c.Events(ctx, q, 30*time.Second); err != nil {
			if ctx.Err() != nil {
				return nil // Ctrl-C ends a follow
			}
			return err
		}
	}
}

// printEvents prints events one per line (JSON lines with -o json).
func (a *app) printEvents(evs []api.Event) {
	for _, e := range evs {
		if a.json() {
			// One compact object per line, for line-oriented tools.
			fmt.Fprintln(a.stdout, compactJSON(e))
			continue
		}
		dep := ""
		if e.DeploymentID != 0 {
			dep = fmt.Sprintf(" deployment %d", e.DeploymentID)
		}
		fmt.Fprintf(a.stdout, "%s %s%s %s: %s\n", stamp(e.Time), e.Service, dep, e.Type, cell(e.Message))
	}
}
