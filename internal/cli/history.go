package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
)

func (a *app) historyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "history SERVICE",
		Short: "List a service's revisions",
		Long: `List a service's revisions, newest first as the daemon keeps them: when and by whom each
was created, its spec hash, what it runs, and which is stable (serving now) or warm
(instances still running, for an instant rollback). The stateful, worker and job services
of a compose stack are not the daemon's: cutover status -f compose.yaml shows the revision
each runs.`,
		Example: `  cutover history web
  cutover rollback web --to $(cutover history web -o json | jq '.[1].number')`,
		Args: exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			revs, err := c.History(cmd.Context(), args[0])
			if errors.Is(err, api.ErrNotFound) {
				return fmt.Errorf("%w\nif %s is a stateful, worker or job service of a compose stack, "+
					"cutover status -f compose.yaml shows the revision it runs", err, args[0])
			}
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, revs)
			}
			printHistory(a.stdout, revs)
			return nil
		},
	}
}

// printHistory prints the revisions table.
func printHistory(w io.Writer, revs []api.Revision) {
	t := newTable(w)
	row(t, "REVISION", "CREATED", "BY", "HASH", "RUNS", "MARKS", "MESSAGE")
	for _, r := range revs {
		var marks []string
		if r.Stable {
			marks = append(marks, "stable")
		}
		if r.Warm {
			marks = append(marks, "warm")
		}
		by := orDash(r.CreatedBy)
		if r.ApprovedBy != "" {
			by += " (approved by " + r.ApprovedBy + ")"
		}
		row(t, strconv.Itoa(r.Number), stamp(r.CreatedAt), by, orDash(shortHash(r.SpecHash)),
			orDash(runs(r)), orDash(strings.Join(marks, ",")), orDash(oneLine(r.Message)))
	}
	t.Flush()
}

// runs is the revision's image, or its command line.
func runs(r api.Revision) string {
	if r.Image != "" {
		return r.Image
	}
	return strings.TrimSpace(r.Command + " " + strings.Join(r.Args, " "))
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// oneLine keeps a table row on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
