package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// pauseTrafficCmd builds pause-traffic: hold a service's new requests during maintenance.
func (a *app) pauseTrafficCmd() *cobra.Command {
	var timeout string
	cmd := &cobra.Command{
		Use:   "pause-traffic SERVICE",
		Short: "Hold a service's new requests (queued, not refused) until resume-traffic",
		Long: `Hold the service's new requests at the proxy, for maintenance (a stateful service being
changed): they wait, up to --timeout each, and reach the app once 'cutover resume-traffic' runs;
one that waits longer gets 503 with Retry-After. Requests already in flight finish. The pause is
kept across a restart of the daemon.`,
		Example: "  cutover pause-traffic db --timeout 1m\n  cutover resume-traffic db",
		Args:    exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.PauseTraffic(cmd.Context(), args[0], timeout); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "traffic of %s paused: new requests wait for resume-traffic\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&timeout, "timeout", "30s", "how long a held request waits before 503 (at most 1h)")
	return cmd
}

// resumeTrafficCmd builds resume-traffic.
func (a *app) resumeTrafficCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "resume-traffic SERVICE",
		Short:   "Release a paused service's held requests",
		Example: "  cutover resume-traffic db",
		Args:    exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.ResumeTraffic(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "traffic of %s resumed\n", args[0])
			return nil
		},
	}
}
