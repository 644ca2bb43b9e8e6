package cli

import (
	"bytes"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
)

func (a *app) secretsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Keep a service's secrets out of its spec file",
		Long: `Keep a service's secret env values in the daemon, sealed in its state file with the
state directory's key (seal.key, mode 0600), and out of spec files. Each instance gets them
in its env. Setting or unsetting one on a deployed service deploys a new revision that
records the version of each secret it uses, so a rollback restores the earlier values.
No command, API answer, event or log line shows a value.`,
	}
	cmd.AddCommand(a.secretsSetCmd(), a.secretsListCmd(), a.secretsUnsetCmd())
	return cmd
}

func (a *app) secretsSetCmd() *cobra.Command {
	var file string
	var wf waitFlags
	cmd := &cobra.Command{
		Use:   "set SERVICE NAME",
		Short: "Set a secret from standard input or a file (never from the command line)",
		Long: `Set a secret's value, read from standard input or from --file (one trailing newline
is dropped). A value is never taken from the command line, where ps and shell history would
show it. On a deployed service this deploys a new revision with the value; a change that the
spec's config refuses (a malformed url, a value outside an enum) changes nothing.`,
		Example: `  printf %s "$DB_URL" | cutover secrets set web DATABASE_URL
  cutover secrets set web TLS_KEY --file key.pem --wait`,
		Args: exactArgs("SERVICE", "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := wf.check(); err != nil {
				return err
			}
			src := file
			if src == "" {
				src = "-"
			}
			value, err := a.readInput(src)
			if err != nil {
				return &usageError{err: fmt.Errorf("read secret value: %w", err)}
			}
			value = bytes.TrimSuffix(bytes.TrimSuffix(value, []byte("\n")), []byte("\r"))
			c, err := a.client()
			if err != nil {
				return err
			}
			ch, err := c.SetSecret(cmd.Context(), args[0], args[1], string(value))
			return a.afterSecret(cmd, c, ch, err, "set", wf)
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "read the value from this file (default: standard input)")
	wf.add(cmd)
	return cmd
}

func (a *app) secretsUnsetCmd() *cobra.Command {
	var wf waitFlags
	cmd := &cobra.Command{
		Use:   "unset SERVICE NAME",
		Short: "Remove a secret (a deployed service gets a new revision without it)",
		Args:  exactArgs("SERVICE", "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := wf.check(); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			ch, err := c.UnsetSecret(cmd.Context(), args[0], args[1])
			return a.afterSecret(cmd, c, ch, err, "unset", wf)
		},
	}
	wf.add(cmd)
	return cmd
}

// afterSecret reports a secret's change and the deployment that carries it, if any.
func (a *app) afterSecret(cmd *cobra.Command, c *api.Client, ch api.SecretChange, err error, verb string, wf waitFlags) error {
	if err != nil {
		return err
	}
	if ch.Deployment == nil {
		if a.json() {
			return printJSON(a.stdout, ch)
		}
		fmt.Fprintf(a.stdout, "secret %s %s (version %d); the service's next deploy uses it\n", ch.Secret.Name, verb, ch.Secret.Version)
		return nil
	}
	if !a.json() {
		fmt.Fprintf(a.stdout, "secret %s %s (version %d)\n", ch.Secret.Name, verb, ch.Secret.Version)
	}
	return a.afterStart(cmd.Context(), c, *ch.Deployment, wf)
}

func (a *app) secretsListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list SERVICE",
		Short: "List a service's secrets: names and versions, never values",
		Args:  exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			list, err := c.Secrets(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, list)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tSET\tBY")
			for _, s := range list {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", s.Name, s.Version, s.CreatedAt.Format(time.RFC3339), s.CreatedBy)
			}
			return tw.Flush()
		},
	}
}
