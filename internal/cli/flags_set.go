package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/flags"
)

// setFlags are the options of `flags set` without --file.
type setFlags struct {
	file        string
	typ         string
	variants    []string
	def         string
	description string
	enabled     bool
}

func (a *app) flagsSetCmd() *cobra.Command {
	var o setFlags
	cmd := &cobra.Command{
		Use:   "set KEY (--file FLAG.yaml | [--type T] [--variant NAME=VALUE]... [--default NAME])",
		Short: "Create or change a flag",
		Long: `Create or change a flag, from a YAML file holding one flag (what 'cutover flags get KEY'
prints; errors name their line and column) or from options. With options, an existing flag
keeps what the options do not change; a new boolean flag gets the variants on (true) and
off (false) and serves off by default. Values are read as the flag's type: true/false,
numbers, text, or a JSON object.`,
		Example: `  cutover flags set new-checkout
  cutover flags set new-checkout --default on
  cutover flags set banner --type string --variant blue="Blue sky" --variant red=Alarm --default blue
  cutover flags set new-checkout --file new-checkout.yaml`,
		Args: exactArgs("KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var f api.FlagStatus
			if o.file != "" {
				if err := o.onlyFile(cmd); err != nil {
					return err
				}
				data, err := a.readInput(o.file)
				if err != nil {
					return &usageError{err: fmt.Errorf("read flag: %w", err)}
				}
				f, err = c.PutFlagYAML(cmd.Context(), "", args[0], data, o.file)
				if err != nil {
					return err
				}
			} else if f, err = a.setFromOptions(cmd, c, args[0], o); err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, f)
			}
			fmt.Fprintf(a.stdout, "flag %s set: %s, %s, default %q\n", f.Key, f.Type, onOff(f.Enabled), f.DefaultVariant)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.file, "file", "", "YAML file of one flag (- reads standard input)")
	fl.StringVar(&o.typ, "type", "", "boolean, string, number or object (new flags: boolean)")
	fl.StringArrayVar(&o.variants, "variant", nil, "a variant, NAME=VALUE (repeatable; replaces all variants)")
	fl.StringVar(&o.def, "default", "", "the variant served when no rule or rollout applies, and when disabled")
	fl.StringVar(&o.description, "description", "", "what the flag is for")
	fl.BoolVar(&o.enabled, "enabled", true, "whether rules and rollout apply (new flags: true)")
	return cmd
}

// onlyFile refuses options next to --file.
func (o setFlags) onlyFile(cmd *cobra.Command) error {
	for _, name := range []string{"type", "variant", "default", "description", "enabled"} {
		if cmd.Flags().Changed(name) {
			return usagef("--file and --%s: the file holds the whole flag", name)
		}
	}
	return nil
}

// setFromOptions merges the options into the existing flag (or a new one) and stores it.
func (a *app) setFromOptions(cmd *cobra.Command, c *api.Client, key string, o setFlags) (api.FlagStatus, error) {
	ctx := cmd.Context()
	cur, err := c.Flag(ctx, key)
	isNew := errors.Is(err, api.ErrNotFound)
	if err != nil && !isNew {
		return api.FlagStatus{}, err
	}
	f := cur.Flag
	if isNew {
		f = flags.Flag{Key: key, Type: flags.Boolean, Enabled: true}
	}
	if o.typ != "" {
		if f.Type, err = flagType(o.typ); err != nil {
			return api.FlagStatus{}, err
		}
	}
	if len(o.variants) > 0 {
		if f.Variants, err = parseVariants(f.Type, o.variants); err != nil {
			return api.FlagStatus{}, err
		}
	} else if isNew && f.Type == flags.Boolean {
		f.Variants, f.DefaultVariant = map[string]any{"on": true, "off": false}, "off"
	} else if isNew {
		return api.FlagStatus{}, usagef("a new %s flag needs its variants: --variant NAME=VALUE", f.Type)
	}
	if o.def != "" {
		f.DefaultVariant = o.def
	}
	if cmd.Flags().Changed("description") {
		f.Description = o.description
	}
	if cmd.Flags().Changed("enabled") {
		f.Enabled = o.enabled
	}
	return c.PutFlag(ctx, "", f)
}

// parseVariants reads NAME=VALUE pairs as values of type t.
func parseVariants(t flags.Type, pairs []string) (map[string]any, error) {
	out := map[string]any{}
	for _, p := range pairs {
		name, raw, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return nil, usagef("--variant %q: want NAME=VALUE", p)
		}
		var v any
		var err error
		switch t {
		case flags.Boolean:
			v, err = strconv.ParseBool(raw)
		case flags.Number:
			v, err = strconv.ParseFloat(raw, 64)
		case flags.Object:
			var m map[string]any
			err = json.Unmarshal([]byte(raw), &m)
			v = m
		default:
			v = raw
		}
		if err != nil {
			return nil, usagef("--variant %s: %q is not a %s value", name, raw, t)
		}
		out[name] = v
	}
	return out, nil
}

func (a *app) flagsRolloutCmd() *cobra.Command {
	var to, step string
	var req api.FlagRolloutRequest
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "rollout KEY (--to N% [--every D --step N%] | --halt | --resume | --clear)",
		Short: "Serve a variant to a percentage of users, now or growing on a schedule",
		Long: `Serve a variant (for a boolean flag, the one that is true) to a share of the users that
no rule matches, picked by a consistent hash of the flag key and the targeting key: raising
the share only adds users, and a user keeps their variant across restarts.

--to N% sets the share at once. With --every and --step the share grows from what it is
now by --step at once, then by --step every --every until --to. --halt freezes it where it
is; --resume continues the schedule; --clear removes the rollout.`,
		Example: `  cutover flags rollout new-checkout --to 10%
  cutover flags rollout new-checkout --to 50% --every 10m --step 10%
  cutover flags rollout new-checkout --halt`,
		Args: exactArgs("KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := rolloutOptions(cmd, &req, to, step, every); err != nil {
				return err
			}
			return a.withFlagClient(cmd.Context(), func(ctx context.Context, c *api.Client) error {
				f, err := c.SetFlagRollout(ctx, "", args[0], req)
				if err != nil {
					return err
				}
				if a.json() {
					return printJSON(a.stdout, f)
				}
				fmt.Fprintf(a.stdout, "flag %s rollout: %s\n", f.Key, rolloutSummary(f))
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&to, "to", "", "the share to reach, in percent: 10% (or 10)")
	fl.DurationVar(&every, "every", 0, "with --step: how often the share grows, such as 10m")
	fl.StringVar(&step, "step", "", "with --every: how much the share grows each time, in percent")
	fl.StringVar(&req.Variant, "variant", "", "the variant to roll out (boolean flags: the true one)")
	fl.BoolVar(&req.Halt, "halt", false, "freeze the rollout at its current share")
	fl.BoolVar(&req.Resume, "resume", false, "continue a halted rollout's schedule")
	fl.BoolVar(&req.Clear, "clear", false, "remove the rollout")
	return cmd
}

// rolloutOptions checks the rollout options and fills req.
func rolloutOptions(cmd *cobra.Command, req *api.FlagRolloutRequest, to, step string, every time.Duration) error {
	modes := 0
	for _, b := range []bool{to != "", req.Halt, req.Resume, req.Clear} {
		if b {
			modes++
		}
	}
	if modes != 1 {
		return usagef("give one of --to, --halt, --resume or --clear")
	}
	if (every > 0) != (step != "") {
		return usagef("--every and --step go together")
	}
	if every < 0 {
		return usagef("--every %v: want a positive duration", every)
	}
	var err error
	if to != "" {
		if req.To, err = parsePercent("--to", to); err != nil {
			return err
		}
	}
	if step != "" {
		if req.Step, err = parsePercent("--step", step); err != nil {
			return err
		}
		req.Every = every.String()
	}
	return nil
}

// parsePercent reads "10%", "10" or "2.5%" as a percentage from 0 to 100.
func parsePercent(flag, s string) (float64, error) {
	p, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || p < 0 || p > 100 {
		return 0, usagef("%s %q: want a percentage from 0 to 100, such as 10%%", flag, s)
	}
	return p, nil
}
