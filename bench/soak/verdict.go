package main

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Window is a span when no daemon was serving: from the SIGKILL to the restarted daemon
// answering its health check.
type Window struct{ From, To time.Time }

// Failure is one failed request: its cause ("refused", "http_502", …), when the schedule
// wanted it sent and when its outcome was known.
type Failure struct {
	Cause      string
	Start, End time.Time
}

// DaemonDown is the cause given to failures that overlap a window with no daemon.
const DaemonDown = "daemon down"

// Classify counts failures by cause; a failure whose span overlaps a window is counted as
// DaemonDown whatever its cause (the proxy is in the daemon: nothing could answer it).
func Classify(fs []Failure, down []Window) map[string]int64 {
	out := map[string]int64{}
	for _, f := range fs {
		cause := f.Cause
		for _, w := range down {
			if !f.End.Before(w.From) && !f.Start.After(w.To) {
				cause = DaemonDown
				break
			}
		}
		out[cause]++
	}
	return out
}

// Sample is one reading of the serving daemon: its pid, resident memory and open files.
type Sample struct {
	At  time.Duration
	PID int
	RSS int64 // bytes
	FDs int
	// Kinds sorts the FDs (see fdKinds); Own is FDs but the load's connections.
	Kinds map[string]int
	Own   int
}

// Series sums up one measure over the run: first, last, max, the medians of the first and
// last quarters of the samples, and whether it grew.
type Series struct {
	First, Last, Max, Early, Late int64
	Grew                          bool
	Verdict                       string
}

// Growth sums up values (in time order). It grew when the last quarter's median exceeds the
// first quarter's by more than 25% and by more than slack: a leak shows as a level that
// keeps rising, while one sample's spike (a deploy's burst) moves no median. With fewer than
// 8 samples there is no verdict.
func Growth(values []int64, slack int64) Series {
	var s Series
	if len(values) == 0 {
		s.Verdict = "no samples"
		return s
	}
	s.First, s.Last, s.Max = values[0], values[len(values)-1], slices.Max(values)
	if len(values) < 8 {
		s.Verdict = fmt.Sprintf("too few samples (%d) for a verdict", len(values))
		return s
	}
	q := len(values) / 4
	s.Early, s.Late = median(values[:q]), median(values[len(values)-q:])
	s.Grew = s.Late > s.Early+s.Early/4 && s.Late-s.Early > slack
	if s.Grew {
		s.Verdict = "grows"
	} else {
		s.Verdict = "no growth"
	}
	return s
}

func median(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// Findings are what the soak checks at the end.
type Findings struct {
	// Failed counts failed requests by cause, DaemonDown among them.
	Failed map[string]int64
	// Orphans are demo app pids no instance record claims; Duplicates name services with
	// more instances than replicas after settling; NonFinal names deployments still running.
	Orphans    []int
	Duplicates []string
	NonFinal   []string
	// Running counts each service's live instance processes at the end.
	Running  map[string]int
	RSS, FDs Series
	// Own is the open files but the clients' connections: the growth verdict is on it.
	Own Series
	// FirstKinds and LastKinds sort the first and last samples' open files.
	FirstKinds, LastKinds map[string]int
	// Errors are faults the soak could not carry out or recover from (a daemon that did not
	// come back, say).
	Errors []string
}

// Broken lists the invariants that broke, empty when the soak passed.
func (f Findings) Broken() []string {
	var out []string
	for _, c := range slices.Sorted(maps.Keys(f.Failed)) {
		if c != DaemonDown && f.Failed[c] > 0 {
			out = append(out, fmt.Sprintf("%d requests failed (%s) while a daemon was serving", f.Failed[c], c))
		}
	}
	if len(f.Orphans) > 0 {
		out = append(out, fmt.Sprintf("orphan demo app processes: %v", f.Orphans))
	}
	for _, d := range f.Duplicates {
		out = append(out, "duplicate instances: "+d)
	}
	for _, d := range f.NonFinal {
		out = append(out, "deployment not final: "+d)
	}
	if f.RSS.Grew {
		out = append(out, "daemon RSS grew")
	}
	if f.Own.Grew {
		out = append(out, "daemon open files (but the clients' connections) grew")
	}
	return append(out, f.Errors...)
}
