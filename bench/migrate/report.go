package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cutover/cutover/examples/demoapp/userload"
)

// writeTable writes the per-step comparison and the totals.
func writeTable(b *strings.Builder, o options, rs []modeResult) {
	fmt.Fprintf(b, "Expand of a %d-row `users` table while the demo app's release 0 (v0) creates, renames and reads back users at %d tasks/s (%d requests/s; a quarter of the renames hit a random pre-existing row); client timeout 10s; %s of load before and after each step.\n\n",
		o.rows, o.rate, 2*o.rate, o.settle)
	b.WriteString("| step | expand | how | duration | requests | failed | over 1 s | p99 | max latency | longest lock wait (sampled) |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for i := range rs[0].steps {
		for _, r := range rs {
			if i >= len(r.steps) {
				continue
			}
			s := r.steps[i]
			fmt.Fprintf(b, "| %s | %s | %s | %s | %d | %d | %d | %s | %s | %s |\n", s.step.name, r.mode.name, s.step.how,
				ms(s.dur), s.rep.Requests, s.rep.FailedRequests()+s.rep.Dropped, slower(s.rep, time.Second),
				ms(s.rep.Quantile(0.99)), ms(s.rep.Max()), ms(s.lock.longest))
		}
	}
	b.WriteString("\n| expand | seed (insert + vacuum) | expand total | requests | failed | max latency | longest lock wait | writes acknowledged | missing / wrong afterwards |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		var total, maxLat, maxLock time.Duration
		var reqs, failed int
		for _, s := range r.steps {
			total += s.dur
			reqs += s.rep.Requests
			failed += s.rep.FailedRequests() + s.rep.Dropped
			maxLat = max(maxLat, s.rep.Max())
			maxLock = max(maxLock, s.lock.longest)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %d | %d | %s | %s | %d | %d / %d |\n", r.mode.name, ms(r.seed), ms(total), reqs, failed,
			ms(maxLat), ms(maxLock), r.acked, r.missing, r.wrongVal)
	}
}

func ms(d time.Duration) string {
	if d >= 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000)
}

// slower counts the requests that took longer than d.
func slower(r userload.Report, d time.Duration) int {
	i, _ := slices.BinarySearch(r.Latencies, d+1)
	return len(r.Latencies) - i
}
