package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
)

// notifyCmd is `cutover notify list|test`.
func (a *app) notifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Show notification targets and deliveries, or send a test notification",
		Long: `Deployment events go to notify targets: daemon-wide ones (serve --notify-config FILE)
and each service's own (its spec's notify list). Deliveries wait in an outbox in the state
file and are retried with backoff until they are delivered. See docs/notifications.md.`,
	}
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the targets (URLs redacted) and the latest deliveries with their status",
		Example: "  cutover notify list\n  cutover notify list -o json",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			st, err := c.Notifications(cmd.Context())
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, st)
			}
			return a.printNotify(st)
		},
	}
	var service, target string
	test := &cobra.Command{
		Use:   "test",
		Short: "Send a notify.test event to the daemon-wide targets (and a service's with --service)",
		Example: `  cutover notify test
  cutover notify test --service web --target web/team`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.TestNotification(cmd.Context(), service, target); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "test notification queued; 'cutover notify list' shows its delivery")
			return nil
		},
	}
	test.Flags().StringVar(&service, "service", "", "also the targets of this service's spec")
	test.Flags().StringVar(&target, "target", "", "only this target (as notify list names it)")
	cmd.AddCommand(list, test)
	return cmd
}

func (a *app) printNotify(st api.NotifyStatus) error {
	tw := newTable(a.stdout)
	fmt.Fprintln(tw, "TARGET\tTYPE\tURL\tSIGNED\tEVENTS")
	for _, t := range st.Targets {
		events := strings.Join(t.Events, ",")
		if events == "" {
			events = "all"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", t.Name, t.Type, t.URL, t.Signed, events)
	}
	fmt.Fprintln(tw, "\nDELIVERY\tTARGET\tEVENT\tSTATUS\tATTEMPTS\tCREATED\tLAST ERROR")
	for _, d := range st.Deliveries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Target, d.Event, d.Status, d.Attempts,
			d.CreatedAt.Local().Format(time.DateTime), d.LastError)
	}
	return tw.Flush()
}
