package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
)

// apiTokenCmd is `cutover token`: the control API's own token (SDK tokens for feature
// flags are `cutover flags token`).
func (a *app) apiTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage the control API's tokens: the daemon's own, and named ones with roles",
	}
	cmd.AddCommand(a.apiTokenRotateCmd())
	cmd.AddCommand(a.namedTokenCmds()...)
	return cmd
}

func (a *app) apiTokenRotateCmd() *cobra.Command {
	var grace time.Duration
	var show bool
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Replace the control API's token with a new one",
		Long: `Ask the daemon for a new API token. The daemon writes it to <state>/token (mode 0600,
replaced atomically) and admits it at once. The old token is refused from then on, or,
with --grace, once that much time has passed, so that clients can be moved over first
(a grace lasts for the running daemon: once restarted, it admits only the token in the file).

Commands that read the token from the state directory use the new one by themselves. A
client given --token or CUTOVER_TOKEN needs the new value: --show prints it.`,
		Example: `  cutover token rotate
  cutover token rotate --grace 10m --show`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if grace < 0 || grace > api.MaxTokenGrace {
				return usagef("--grace %s: want 0s to %s", grace, api.MaxTokenGrace)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			res, err := c.RotateToken(cmd.Context(), grace)
			if err != nil {
				return fmt.Errorf("rotate token: %w", err)
			}
			return a.printRotation(res, show)
		},
	}
	cmd.Flags().DurationVar(&grace, "grace", 0, "how long the old token is still accepted (at most 24h)")
	cmd.Flags().BoolVar(&show, "show", false, "print the new token (it is in <state>/token either way)")
	return cmd
}

// printRotation reports a rotation; the token itself only when asked.
func (a *app) printRotation(res api.TokenRotation, show bool) error {
	if !show {
		res.Token = ""
	}
	if a.json() {
		return printJSON(a.stdout, struct {
			Token              string    `json:"token,omitempty"`
			File               string    `json:"file"`
			PreviousValidUntil time.Time `json:"previous_valid_until"`
		}{res.Token, res.File, res.PreviousValidUntil})
	}
	fmt.Fprintf(a.stdout, "token rotated: the new token is in %s; the old one is refused from %s\n",
		res.File, res.PreviousValidUntil.Local().Format(time.RFC3339))
	if show {
		fmt.Fprintln(a.stdout, res.Token)
	}
	return nil
}
