package main

import (
	"fmt"
	"strings"
	"time"
)

// report renders the figures as a Markdown fragment.
func report(f flags, roll, stackRoll []rollout, s startup) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Update of one compose service from v1 to v2 (env var change) under %d req/s:\n\n", f.rate)
	rolloutTable(&b, roll)
	fmt.Fprintf(&b, "\nUpdate of web in a stack of four services (web, db with a volume, worker, migration job; only web changed) under %d req/s:\n\n", f.rate)
	rolloutTable(&b, stackRoll)
	md, mc := median(s.docker), median(s.cutover)
	fmt.Fprintf(&b, "\nStart-to-ready of one container, %d interleaved runs each, median (all runs):\n\n", len(s.docker))
	b.WriteString("| side | median | runs |\n|---|---:|---|\n")
	fmt.Fprintf(&b, "| `docker run -d` + GET /healthz every %s until 200 | %s | %s |\n", probePeriod, md.Round(time.Millisecond), list(s.docker))
	fmt.Fprintf(&b, "| cutover first deployment, readiness probe every %s, until succeeded | %s | %s |\n", probePeriod, mc.Round(time.Millisecond), list(s.cutover))
	if md > 0 {
		fmt.Fprintf(&b, "\nRatio cutover / docker run: **%.2f**\n", float64(mc)/float64(md))
	}
	return b.String()
}

// rolloutTable writes one row per tool: requests, failures by kind, versions, duration.
func rolloutTable(b *strings.Builder, roll []rollout) {
	b.WriteString("| tool | requests | failed | failure kinds | v1 / v2 served | update to v2 answering |\n|---|---:|---:|---|---|---:|\n")
	for _, r := range roll {
		kinds := []string{}
		for k, n := range r.sum.Errors {
			kinds = append(kinds, fmt.Sprintf("%s:%d", k, n))
		}
		for st, n := range r.sum.ByStatus {
			if st != 200 {
				kinds = append(kinds, fmt.Sprintf("http_%d:%d", st, n))
			}
		}
		fmt.Fprintf(b, "| `%s` | %d | %d | %s | %d / %d | %s |\n", r.tool, r.sum.Sent, r.sum.Failed,
			strings.Join(kinds, " "), r.sum.ByVersion["v1"], r.sum.ByVersion["v2"], r.took.Round(time.Millisecond))
	}
}

func list(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Round(time.Millisecond).String())
	}
	return strings.Join(s, ", ")
}
