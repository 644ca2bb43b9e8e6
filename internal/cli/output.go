package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cutover/cutover/internal/api"
)

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// newTable returns a writer that aligns tab-separated columns; Flush it at the end.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
}

// row writes cells as one tab-separated line, each cell on it whatever it holds.
func row(w io.Writer, cells ...string) {
	for i, c := range cells {
		cells[i] = cell(c)
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// revisionMove describes a deployment's move: "revision 1 → 2", or "revision 1" for a first one.
func revisionMove(d api.Deployment) string {
	if d.From == 0 {
		return fmt.Sprintf("revision %d", d.To)
	}
	return fmt.Sprintf("revision %d → %d", d.From, d.To)
}

// started describes a deployment just created.
func started(d api.Deployment) string {
	kind := ""
	if d.Kind != "" && d.Kind != "deploy" {
		kind = d.Kind + ", "
	}
	return fmt.Sprintf("deployment %d of %s started (%s%s, %s)", d.ID, d.Service, kind, revisionMove(d), d.Strategy)
}

// outcome describes a final deployment.
func outcome(d api.Deployment) string {
	var s string
	switch d.Status {
	case "succeeded":
		s = fmt.Sprintf("deployment %d of %s succeeded: revision %d is stable", d.ID, d.Service, d.To)
	case "rolled_back":
		s = fmt.Sprintf("deployment %d of %s rolled back to revision %d", d.ID, d.Service, d.From)
	case "aborted":
		s = fmt.Sprintf("deployment %d of %s aborted; revision %d serves", d.ID, d.Service, d.From)
	default:
		s = fmt.Sprintf("deployment %d of %s %s", d.ID, d.Service, strings.ReplaceAll(d.Status, "_", " "))
	}
	if d.Reason != "" {
		s += ": " + d.Reason
	}
	return s
}

// verdictText is the verdict's summary (analysis.Describe), or for a daemon that sends none
// "fail (latency): canary is slower than the baseline: …".
func verdictText(v api.Verdict) string {
	if v.Summary != "" {
		return v.Summary
	}
	if v.Rule == "" {
		return v.Outcome + ": " + v.Reason
	}
	return v.Outcome + " (" + v.Rule + "): " + v.Reason
}

// deploymentSummary is "7 running (phase rolling, step 1, revision 1 → 2)".
func deploymentSummary(d *api.Deployment) string {
	if d == nil {
		return "-"
	}
	s := fmt.Sprintf("%d %s (", d.ID, d.Status)
	if d.Phase != "" {
		s += "phase " + d.Phase + ", "
	}
	if d.Step > 0 {
		s += "step " + strconv.Itoa(d.Step) + ", "
	}
	return s + revisionMove(*d) + ")"
}

// weights renders revision weights in revision order: "r1 90%  r2 10%".
func weights(m map[int]int) string {
	if len(m) == 0 {
		return "-"
	}
	revs := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(revs))
	for i, r := range revs {
		parts[i] = fmt.Sprintf("%s %d%%", revLabel(r), m[r])
	}
	return strings.Join(parts, "  ")
}

// revLabel names a revision key: "r3", or "baseline r3" for a canary's baseline, which the
// API keys by the negated revision.
func revLabel(r int) string {
	if r < 0 {
		return fmt.Sprintf("baseline r%d", -r)
	}
	return fmt.Sprintf("r%d", r)
}

// traffic renders per-revision request counts: "r1 120 req 0 err".
func traffic(m map[int]api.Counts) string {
	revs := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(revs))
	for i, r := range revs {
		parts[i] = fmt.Sprintf("%s %d req %d err", revLabel(r), m[r].Requests, m[r].Errors)
	}
	return strings.Join(parts, "  ")
}

// yesNo renders a bool for a table.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// orDash renders an empty cell as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// stamp renders a time for tables, in local time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// progressLine renders an event while waiting: "12:00:01 deployment 7 rolling (1/2 new available)".
func progressLine(e api.Event) string {
	return fmt.Sprintf("%s deployment %d %s", e.Time.Local().Format("15:04:05"), e.DeploymentID, e.Message)
}

// compactJSON renders v as one line of JSON.
func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf(`{"error":%q}`, "encode: "+err.Error())
	}
	return string(b)
}
