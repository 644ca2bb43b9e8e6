package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/atomicfile"
	"github.com/cutover/cutover/internal/flags"
)

func (a *app) flagsHistoryCmd() *cobra.Command {
	var q api.FlagHistoryQuery
	var segment bool
	cmd := &cobra.Command{
		Use:   "history [KEY]",
		Short: "Show who changed which flag when, and what changed",
		Example: `  cutover flags history
  cutover flags history new-checkout -o json
  cutover flags history internal-users --segment`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				q.Key = args[0]
			}
			if segment {
				q.Kind = string(flags.KindSegment)
			}
			if q.Limit < 0 {
				return usagef("--limit %d: want a positive number", q.Limit)
			}
			return a.withFlagClient(cmd.Context(), func(ctx context.Context, c *api.Client) error {
				list, err := c.FlagHistory(ctx, q)
				if err != nil {
					return err
				}
				if a.json() {
					return printJSON(a.stdout, nonNilList(list))
				}
				printFlagHistory(a.stdout, list)
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&q.Limit, "limit", 100, "at most this many records, newest first")
	cmd.Flags().BoolVar(&segment, "segment", false, "KEY names a segment, not a flag")
	return cmd
}

func nonNilList[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// printFlagHistory prints the audit table.
func printFlagHistory(w io.Writer, list []flags.Record) {
	t := newTable(w)
	row(t, "ID", "TIME", "BY", "ACTION", "KIND", "KEY", "CHANGE")
	for _, r := range list {
		row(t, strconv.FormatInt(r.ID, 10), stamp(r.Time), orDash(r.Actor), r.Action, string(r.Kind), r.Key,
			orDash(changeSummary(r.Before, r.After)))
	}
	t.Flush()
}

// changeSummary describes what changed between two JSON objects, field by field:
// "enabled: true → false; rollout". Scalars show both values; larger fields only their name.
func changeSummary(before, after json.RawMessage) string {
	var b, a map[string]json.RawMessage
	_ = json.Unmarshal(before, &b) // null or absent decodes to a nil map
	_ = json.Unmarshal(after, &a)
	switch {
	case b == nil && a == nil:
		return ""
	case b == nil:
		return "created"
	case a == nil:
		return "deleted"
	}
	keys := map[string]bool{}
	for k := range maps.Keys(b) {
		keys[k] = true
	}
	for k := range maps.Keys(a) {
		keys[k] = true
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		bv, av := b[k], a[k]
		if bytes.Equal(bv, av) {
			continue
		}
		if short(bv) && short(av) {
			parts = append(parts, fmt.Sprintf("%s: %s → %s", k, orDash(string(bv)), orDash(string(av))))
		} else {
			parts = append(parts, k)
		}
	}
	return strings.Join(parts, "; ")
}

// short reports whether a JSON value fits a table cell.
func short(v json.RawMessage) bool {
	return len(v) <= 24 && !bytes.ContainsAny(v, "{[")
}

func (a *app) flagsExportCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "export [-f FILE]",
		Short: "Write every segment and flag as a YAML file that 'flags import' reads",
		Example: `  cutover flags export -f flags.yaml
  cutover flags export > flags.yaml`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withFlagClient(cmd.Context(), func(ctx context.Context, c *api.Client) error {
				data, err := c.ExportFlags(ctx)
				if err != nil {
					return err
				}
				if a.json() {
					if data, err = yaml.YAMLToJSON(data); err != nil {
						return fmt.Errorf("convert export to json: %w", err)
					}
					data = append(data, '\n')
				}
				if file != "" && file != "-" {
					if err := atomicfile.Write(file, data, 0o644); err != nil {
						return fmt.Errorf("write %s: %w", file, err)
					}
					return nil
				}
				_, err = a.stdout.Write(data)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "write to this file (atomically) instead of standard output")
	return cmd
}

func (a *app) flagsImportCmd() *cobra.Command {
	var opts flags.ImportOptions
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Apply a flags YAML file: all of it, or nothing when any part is invalid",
		Long: `Apply a flags-as-code YAML file (segments and flags, as 'flags export' writes) in one
audited change. Every problem is reported with its line and column, and then nothing is
imported. --prune also deletes flags and segments the file does not mention; --dry-run
only shows what would change. FILE - reads standard input.`,
		Example: `  cutover flags import flags.yaml --dry-run
  cutover flags import flags.yaml --prune`,
		Args: exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := a.readInput(args[0])
			if err != nil {
				return &usageError{err: fmt.Errorf("read flags file: %w", err)}
			}
			return a.withFlagClient(cmd.Context(), func(ctx context.Context, c *api.Client) error {
				res, err := c.ImportFlags(ctx, "", data, args[0], opts)
				if err != nil {
					return err
				}
				if a.json() {
					return printJSON(a.stdout, res)
				}
				printImport(a.stdout, res, opts.DryRun)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&opts.Prune, "prune", false, "delete flags and segments that the file does not mention")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "show what would change, change nothing")
	return cmd
}

// printImport lists an import's changes: "update flag a (enabled: false → true)".
func printImport(w io.Writer, res flags.ImportResult, dry bool) {
	verb := ""
	if dry {
		verb = "would "
	}
	for _, r := range res.Changes {
		what := "update"
		switch s := changeSummary(r.Before, r.After); s {
		case "created":
			what = "create"
		case "deleted":
			what = "delete"
		default:
			fmt.Fprintf(w, "%supdate %s %s (%s)\n", verb, r.Kind, r.Key, s)
			continue
		}
		fmt.Fprintf(w, "%s%s %s %s\n", verb, what, r.Kind, r.Key)
	}
	n := len(res.Changes)
	switch {
	case n == 0:
		fmt.Fprintln(w, "no changes")
	case dry:
		fmt.Fprintf(w, "%d change(s) would be made; nothing was changed (dry run)\n", n)
	default:
		fmt.Fprintf(w, "%d change(s) imported\n", n)
	}
}
