package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
)

// flagsTokenCmd is `cutover flags token create|list|revoke`.
func (a *app) flagsTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage SDK tokens: they let an app evaluate flags over OFREP, and nothing else",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "create NAME",
		Short: "Create an SDK token and print it (it is shown only this once)",
		Long: `Create an SDK token named NAME and print it on standard output, alone, so that a script
can capture it. Only its hash is stored: it cannot be shown again. Give it to an
OpenFeature OFREP provider as its bearer token (Authorization: Bearer <token>).`,
		Example: `  OFREP_TOKEN=$(cutover flags token create web)`,
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withFlagClient(cmd.Context(), func(ctx context.Context, c *api.Client) error {
				t, err := c.CreateSDKToken(ctx, "", args[0])
				if err != nil {
					return err
				}
				if a.json() {
					return printJSON(a.stdout, t)
				}
				fmt.Fprintln(a.stdout, t.Token)
				fmt.Fprintf(a.stderr, "sdk token %s created; it is shown only once\n", t.Name)
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List SDK tokens (names, not secrets)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withFlagClient(cmd.Context(), func(ctx context.Context, c *api.Client) error {
				list, err := c.SDKTokens(ctx)
				if err != nil {
					return err
				}
				if a.json() {
					return printJSON(a.stdout, nonNilList(list))
				}
				t := newTable(a.stdout)
				row(t, "NAME", "CREATED", "BY")
				for _, tok := range list {
					row(t, tok.Name, stamp(tok.CreatedAt), orDash(tok.CreatedBy))
				}
				return t.Flush()
			})
		},
	}, &cobra.Command{
		Use:     "revoke NAME",
		Short:   "Revoke an SDK token: it stops working at once",
		Example: "  cutover flags token revoke web",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withFlagClient(cmd.Context(), func(ctx context.Context, c *api.Client) error {
				if err := c.RevokeSDKToken(ctx, "", args[0]); err != nil {
					return err
				}
				if a.json() {
					return printJSON(a.stdout, map[string]string{"revoked": args[0]})
				}
				fmt.Fprintf(a.stdout, "sdk token %s revoked\n", args[0])
				return nil
			})
		},
	})
	return cmd
}
