package main

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestClassifyCountsDaemonDownApart(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	down := []Window{{From: at(10), To: at(12)}, {From: at(30), To: at(31)}}
	fs := []Failure{
		{Cause: "refused", Start: at(10.5), End: at(10.6)},    // inside
		{Cause: "reset", Start: at(9.9), End: at(10.0)},       // in flight at the kill
		{Cause: "refused", Start: at(11.9), End: at(12.0)},    // just before the restart answered
		{Cause: "http_502", Start: at(12.001), End: at(12.1)}, // after: the daemon's fault
		{Cause: "refused", Start: at(5), End: at(6)},          // before any window
		{Cause: "timeout", Start: at(25), End: at(30.5)},      // overlaps the second window
	}
	got := Classify(fs, down)
	want := map[string]int64{DaemonDown: 4, "http_502": 1, "refused": 1}
	if !maps.Equal(got, want) {
		t.Fatalf("Classify: %v, want %v", got, want)
	}
	if got := Classify(fs, nil); got[DaemonDown] != 0 || got["refused"] != 3 {
		t.Fatalf("Classify without windows: %v", got)
	}
}

func TestGrowth(t *testing.T) {
	flat := []int64{50, 51, 50, 52, 90, 50, 51, 50, 52, 51, 50, 51} // one spike
	if s := Growth(flat, 10); s.Grew || s.Max != 90 || s.First != 50 || s.Last != 51 {
		t.Fatalf("flat with a spike: %+v", s)
	}
	rising := []int64{50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100, 105}
	if s := Growth(rising, 10); !s.Grew || s.Verdict != "grows" || s.Early != 55 || s.Late != 100 {
		t.Fatalf("rising: %+v", s)
	}
	if s := Growth(rising, 100); s.Grew {
		t.Fatalf("rising by less than the slack: %+v", s)
	}
	if s := Growth(rising[:5], 10); s.Grew || !strings.Contains(s.Verdict, "too few") {
		t.Fatalf("five samples: %+v", s)
	}
	if s := Growth(nil, 10); s.Grew || s.Verdict != "no samples" {
		t.Fatalf("no samples: %+v", s)
	}
}

func TestBrokenIgnoresOnlyDaemonDown(t *testing.T) {
	ok := Findings{Failed: map[string]int64{DaemonDown: 120}}
	if b := ok.Broken(); len(b) != 0 {
		t.Fatalf("only daemon-down failures: broken %v", b)
	}
	bad := Findings{
		Failed:     map[string]int64{DaemonDown: 3, "http_502": 2},
		Orphans:    []int{77},
		Duplicates: []string{"alpha runs 3"},
		NonFinal:   []string{"alpha #4"},
		FDs:        Series{Grew: true}, // the clients' pool: no verdict on it
		Own:        Series{Grew: true},
		Errors:     []string{"kill_daemon: ERROR"},
	}
	if b := bad.Broken(); len(b) != 6 {
		t.Fatalf("broken: %q, want 6 entries", b)
	}
}

func TestOrphansAndRunning(t *testing.T) {
	recs := []record{
		{Service: "alpha", PID: 10}, {Service: "alpha", PID: 11},
		{Service: "beta", PID: 20}, {Service: "beta", PID: 21, Stopped: true},
		{Service: "beta", PID: 0},  // being started: no process yet
		{Service: "beta", PID: 99}, // its process is gone
	}
	live := []int{10, 11, 12, 20, 21}
	if got := Orphans(live, recs); !slices.Equal(got, []int{12, 21}) {
		t.Fatalf("orphans %v, want [12 21] (no record; a stopped record's live process)", got)
	}
	if got := Running(live, recs); !maps.Equal(got, map[string]int{"alpha": 2, "beta": 1}) {
		t.Fatalf("running %v", got)
	}
}
