package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/flags"
)

// flagsCmd is the `cutover flags` command group.
func (a *app) flagsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "flags",
		Short: "Manage feature flags (served to apps over OpenFeature's OFREP)",
		Long: `Manage feature flags. The daemon serves them to applications over the OpenFeature Remote
Evaluation Protocol at <daemon>/ofrep/v1/... to holders of an SDK token ('cutover flags token
create NAME'), which can evaluate flags and do nothing else.

Every change is recorded with the name of the token that made it ("admin" for the API
token), and what the flag was before and after
('cutover flags history'). 'cutover flags disable KEY' is the kill switch: the flag serves
its default variant to every client at once; SDKs subscribed to the event stream hear of it
within a second. Flags can live in git: 'cutover flags export' and 'cutover flags import'.

In a deployment hook, CUTOVER_ADDR and CUTOVER_TOKEN are set, so a post_promote hook can
run 'cutover flags enable KEY' or 'cutover flags rollout KEY --to 10%'.`,
	}
	cmd.AddCommand(a.flagsListCmd(), a.flagsGetCmd(), a.flagsSetCmd(), a.flagsEnableCmd(true), a.flagsEnableCmd(false),
		a.flagsRolloutCmd(), a.flagsDeleteCmd(), a.flagsHistoryCmd(), a.flagsExportCmd(), a.flagsImportCmd(), a.flagsTokenCmd())
	return cmd
}

func (a *app) flagsListCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List feature flags",
		Example: "  cutover flags list\n  cutover flags list -o json",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			list, err := c.Flags(cmd.Context())
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, list)
			}
			printFlags(a.stdout, list)
			return nil
		},
	}
}

// printFlags prints the flags table.
func printFlags(w io.Writer, list []api.FlagStatus) {
	t := newTable(w)
	row(t, "KEY", "TYPE", "STATE", "DEFAULT", "RULES", "ROLLOUT", "DESCRIPTION")
	for _, f := range list {
		row(t, f.Key, string(f.Type), onOff(f.Enabled), f.DefaultVariant, strconv.Itoa(len(f.Rules)),
			rolloutSummary(f), orDash(oneLine(f.Description)))
	}
	t.Flush()
}

func onOff(enabled bool) string {
	if enabled {
		return "enabled"
	}
	return "disabled"
}

// rolloutSummary is "on 25%", "on 25% (halted)", "on 10% → 50%" or "-".
func rolloutSummary(f api.FlagStatus) string {
	if f.Rollout == nil || f.RolloutPercent == nil {
		return "-"
	}
	s := fmt.Sprintf("%s %s", f.Rollout.Variant, percent(*f.RolloutPercent))
	if n := len(f.Rollout.Steps); n > 0 && f.NextStep != nil {
		s += " → " + percent(f.Rollout.Steps[n-1].Percent)
	}
	if f.Rollout.Halted {
		s += " (halted)"
	}
	return s
}

func percent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

func (a *app) flagsGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get KEY",
		Short: "Show a flag, as YAML that 'flags set KEY --file' reads back",
		Example: `  cutover flags get new-checkout
  cutover flags get new-checkout > f.yaml && $EDITOR f.yaml && cutover flags set new-checkout --file f.yaml`,
		Args: exactArgs("KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			f, err := c.Flag(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printFlag(f)
		},
	}
}

// printFlag prints a flag: JSON, or YAML with the rollout's state as a comment.
func (a *app) printFlag(f api.FlagStatus) error {
	if a.json() {
		return printJSON(a.stdout, f)
	}
	b, err := yaml.MarshalWithOptions(f.Flag, yaml.IndentSequence(true))
	if err != nil {
		return fmt.Errorf("encode flag %s: %w", f.Key, err)
	}
	if f.RolloutPercent != nil {
		fmt.Fprintf(a.stdout, "# rollout serves %q to %s of users now", f.Rollout.Variant, percent(*f.RolloutPercent))
		if f.NextStep != nil {
			fmt.Fprintf(a.stdout, "; next step %s", stamp(*f.NextStep))
		}
		fmt.Fprintln(a.stdout)
	}
	_, err = a.stdout.Write(b)
	return err
}

// flagsEnableCmd builds enable or disable (the kill switch).
func (a *app) flagsEnableCmd(enable bool) *cobra.Command {
	use, short := "disable KEY", "Switch a flag off at once: it serves its default variant (the kill switch)"
	if enable {
		use, short = "enable KEY", "Switch a flag on: its rules and rollout apply again"
	}
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: "  cutover flags " + strings.Fields(use)[0] + " new-checkout",
		Args:    exactArgs("KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			f, err := c.SetFlagEnabled(cmd.Context(), "", args[0], enable)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, f)
			}
			if enable {
				fmt.Fprintf(a.stdout, "flag %s enabled\n", f.Key)
			} else {
				fmt.Fprintf(a.stdout, "flag %s disabled: it serves its default variant %q\n", f.Key, f.DefaultVariant)
			}
			return nil
		},
	}
}

func (a *app) flagsDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "delete KEY",
		Short:   "Delete a flag (clients then get FLAG_NOT_FOUND and use their code default)",
		Example: "  cutover flags delete old-banner",
		Args:    exactArgs("KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.DeleteFlag(cmd.Context(), "", args[0]); err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, map[string]string{"deleted": args[0]})
			}
			fmt.Fprintf(a.stdout, "flag %s deleted\n", args[0])
			return nil
		},
	}
}

// withFlagClient runs fn with a client, for commands whose output is fn's.
func (a *app) withFlagClient(ctx context.Context, fn func(context.Context, *api.Client) error) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	return fn(ctx, c)
}

// flagType checks a --type value.
func flagType(s string) (flags.Type, error) {
	switch t := flags.Type(s); t {
	case flags.Boolean, flags.String, flags.Number, flags.Object:
		return t, nil
	}
	return "", usagef("--type %q: want boolean, string, number or object", s)
}
