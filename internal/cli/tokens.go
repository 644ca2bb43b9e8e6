package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/auth"
)

// namedTokenCmds are `cutover token create|list|revoke`: named API tokens with roles.
func (a *app) namedTokenCmds() []*cobra.Command {
	var role string
	create := &cobra.Command{
		Use:   "create NAME --role ROLE",
		Short: "Create a named API token with a role (shown once)",
		Long: `Create an API token named NAME with a role, and print it once: the daemon keeps only its
hash (in <state>/api-tokens.json) and cannot show it again. The roles:
  admin     everything, including tokens
  deployer  read, and deploy, roll back, pause, resume, abort, promote, retry, migrations, flags
  approver  read, and approve deployments ('cutover approve')
  viewer    read only
Requests are recorded under the token's name (revisions, deployments, flag changes, events).
Give the token to a client with CUTOVER_TOKEN, --token or a context ('cutover context add').`,
		Example: `  cutover token create ci --role deployer
  cutover token create alice --role approver -o json`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := auth.ParseRole(role); err != nil {
				return usagef("--role: %v", err)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			t, err := c.CreateToken(cmd.Context(), args[0], role)
			if err != nil {
				return fmt.Errorf("create token %s: %w", args[0], err)
			}
			if a.json() {
				return printJSON(a.stdout, t)
			}
			fmt.Fprintf(a.stdout, "token %s (%s) created; it is shown this once:\n%s\n", t.Name, t.Role, t.Token)
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", "", "admin, deployer, approver or viewer (required)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the named API tokens (never the tokens themselves)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			list, err := c.Tokens(cmd.Context())
			if err != nil {
				return fmt.Errorf("list tokens: %w", err)
			}
			if a.json() {
				return printJSON(a.stdout, list)
			}
			tw := newTable(a.stdout)
			fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tBY")
			for _, t := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Role, t.CreatedAt.Local().Format(time.RFC3339), t.CreatedBy)
			}
			return tw.Flush()
		},
	}
	revoke := &cobra.Command{
		Use:     "revoke NAME",
		Short:   "Revoke a named API token: it is refused at once",
		Example: `  cutover token revoke ci`,
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("revoke token %s: %w", args[0], err)
			}
			fmt.Fprintf(a.stdout, "token %s revoked\n", args[0])
			return nil
		},
	}
	return []*cobra.Command{create, list, revoke}
}
