package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/loadgen"
)

func format(c config, rs []result, keep, conn loadgen.Summary, loadStart, loadEnd string) string {
	var ready, exit []time.Duration
	for _, r := range rs {
		ready, exit = append(ready, r.ready), append(exit, r.exit)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "handoffs %d, gap %s, rate %d req/s, app latency %s; load average %s → %s\n\n",
		len(rs), c.gap, c.rate, c.latency, loadStart, loadEnd)
	b.WriteString("| load | sent | ok | failed | not sent (generator) | p50 | p99 | max |\n|---|---|---|---|---|---|---|---|\n")
	for _, l := range []struct {
		name string
		s    loadgen.Summary
	}{{"keep-alive", keep}, {"new connection each", conn}} {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s | %s | %s |\n", l.name, l.s.Sent, l.s.OK, l.s.Failed,
			l.s.GeneratorDropped, round(l.s.P50), round(l.s.P99), round(l.s.Max))
	}
	b.WriteString("\n| hand-off | median | p90 | max |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| SIGHUP → successor serves | %s | %s | %s |\n", round(quantile(ready, .5)), round(quantile(ready, .9)), round(quantile(ready, 1)))
	fmt.Fprintf(&b, "| SIGHUP → old process gone | %s | %s | %s |\n", round(quantile(exit, .5)), round(quantile(exit, .9)), round(quantile(exit, 1)))
	return b.String()
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Millisecond:
		return d.Round(time.Millisecond)
	case d > 10*time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d
}
