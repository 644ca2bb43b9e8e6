package main

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/loadgen"
)

// report is the run's Markdown report.
func (s *soak) report(sums [2]loadgen.Summary, f Findings, loadStart, loadEnd string) string {
	var b strings.Builder
	c := s.c
	fmt.Fprintf(&b, "## Soak under faults: seed %d\n\n", c.seed)
	fmt.Fprintf(&b, "`go run ./bench/soak --duration %s --seed %d` (rate %d req/s to each of 2 services, gaps %s to %s, daemon down at most %s, disk full at most %s%s); %d CPUs, load average %s at the start, %s at the end.\n\n",
		c.duration, c.seed, c.rate, c.minGap, c.maxGap, c.downMax, c.diskFullMax, map[bool]string{true: ", no disk faults", false: ""}[c.noDisk], runtime.NumCPU(), loadStart, loadEnd)
	broken := f.Broken()
	if len(broken) == 0 {
		b.WriteString("**Result: every invariant held.**\n\n")
	} else {
		b.WriteString("**Result: invariants broke:**\n\n")
		for _, x := range broken {
			fmt.Fprintf(&b, "- %s\n", x)
		}
		b.WriteString("\n")
	}
	b.WriteString("Load, per service:\n\n")
	for i, svc := range s.services {
		fmt.Fprintf(&b, "- %s: %s\n", svc.name, sums[i])
	}
	var downFor time.Duration
	for _, w := range s.down {
		downFor += w.To.Sub(w.From)
	}
	fmt.Fprintf(&b, "\nFailed requests by cause (%q: while no daemon ran, %d window(s), %s in all; counted apart):\n\n",
		DaemonDown, len(s.down), downFor.Round(time.Millisecond))
	if len(f.Failed) == 0 {
		b.WriteString("- none\n")
	}
	for _, cause := range slices.Sorted(maps.Keys(f.Failed)) {
		fmt.Fprintf(&b, "- %s: %d\n", cause, f.Failed[cause])
	}
	fmt.Fprintf(&b, "\n| check | result |\n|---|---|\n")
	fmt.Fprintf(&b, "| orphan demo app processes | %s |\n", listOr(f.Orphans, "none"))
	fmt.Fprintf(&b, "| duplicates after settling | %s |\n", listOr(f.Duplicates, "none"))
	fmt.Fprintf(&b, "| instances running at the end (replicas %d) | %s |\n", replicas, counts(f.Running))
	fmt.Fprintf(&b, "| deployments not final at the end | %s |\n", listOr(f.NonFinal, "none"))
	fmt.Fprintf(&b, "| faults not carried out | %s |\n", listOr(f.Errors, "none"))
	fmt.Fprintf(&b, "\nThe serving daemon, sampled every %s (%d samples; a hand-off or a restart starts a new process; growth compares the medians of the first and last quarters):\n\n", c.sample, len(s.samples))
	b.WriteString("| measure | first | last | max | first quarter | last quarter | verdict |\n|---|---|---|---|---|---|---|\n")
	mb := func(v int64) string { return fmt.Sprintf("%.1f MB", float64(v)/(1<<20)) }
	n := func(v int64) string { return fmt.Sprint(v) }
	fmt.Fprintf(&b, "| RSS | %s | %s | %s | %s | %s | %s |\n", mb(f.RSS.First), mb(f.RSS.Last), mb(f.RSS.Max), mb(f.RSS.Early), mb(f.RSS.Late), f.RSS.Verdict)
	fmt.Fprintf(&b, "| open files | %s | %s | %s | %s | %s | (see below) |\n", n(f.FDs.First), n(f.FDs.Last), n(f.FDs.Max), n(f.FDs.Early), n(f.FDs.Late))
	fmt.Fprintf(&b, "| open files but the clients' connections | %s | %s | %s | %s | %s | %s |\n", n(f.Own.First), n(f.Own.Last), n(f.Own.Max), n(f.Own.Early), n(f.Own.Late), f.Own.Verdict)
	fmt.Fprintf(&b, "\nOpen files by kind, first sample: %s; last: %s. The clients' connections follow the load generator's pool (idle ones kept 90 s), so the verdict leaves them out.\n",
		counts(f.FirstKinds), counts(f.LastKinds))
	fmt.Fprintf(&b, "\nFaults (%d), as carried out:\n\n| at | fault | service | took | outcome |\n|---|---|---|---|---|\n", len(s.done))
	for _, d := range s.done {
		kind := string(d.Kind)
		if d.Hold > 0 {
			kind += " (" + d.Hold.Round(100*time.Millisecond).String() + ")"
		}
		target := s.services[d.Service].name
		if d.Kind == HandOff || d.Kind == KillDaemon {
			target = "–"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", d.At.Round(100*time.Millisecond), kind, target,
			d.Took.Round(time.Millisecond), strings.ReplaceAll(d.Outcome, "|", "/"))
	}
	return b.String()
}

func listOr[T any](v []T, none string) string {
	if len(v) == 0 {
		return none
	}
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strings.ReplaceAll(fmt.Sprint(x), "|", "/")
	}
	return strings.Join(parts, "; ")
}

func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return listOr(parts, "none")
}
