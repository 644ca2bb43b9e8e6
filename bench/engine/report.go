package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one measured figure with its target.
type Row struct {
	Bench  string // "1 deploys", ...
	Metric string
	Value  string
	Target string // empty when the figure has no target
	// Verdict is "met", "missed" or "" (no target).
	Verdict string
	Note    string
}

// verdict returns "met" or "missed".
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

// printTable writes the rows as an aligned text table.
func printTable(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "bench\tmetric\tvalue\ttarget\tverdict\tnote")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Bench, r.Metric, r.Value, dash(r.Target), dash(r.Verdict), r.Note)
	}
	tw.Flush()
}

// writeMarkdown writes the rows and the run's context as a Markdown fragment to path.
func writeMarkdown(path string, rows []Row, header string) error {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("\n| bench | metric | value | target | verdict | note |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.Bench, r.Metric, r.Value, dash(r.Target), dash(r.Verdict),
			strings.ReplaceAll(r.Note, "|", "\\|"))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// median returns the median of ds (the lower middle for an even count); 0 when empty.
func median(ds []time.Duration) time.Duration { return quantile(ds, 0.5) }

// quantile returns the q-quantile of ds by nearest rank; 0 when empty.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// maxOf returns the largest of ds; 0 when empty.
func maxOf(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds)
}

// ms formats d in milliseconds with up to two decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// us formats d in microseconds with one decimal.
func us(d time.Duration) string {
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}
