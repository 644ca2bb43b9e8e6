package main

import (
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/google/go-cmp/cmp"
)

func TestFirstOnlyOld(t *testing.T) {
	ms := time.Millisecond
	cases := map[string]struct {
		samples []sample
		want    time.Duration
	}{
		"switch after two new answers": {[]sample{
			{start: 1 * ms, version: "new"}, {start: 11 * ms, version: "new"}, {start: 12 * ms, version: "new"},
			{start: 13 * ms, version: "old"}, {start: 14 * ms, version: "old"},
		}, 3 * ms},
		"failed and canceled answers are ignored": {[]sample{
			{start: 11 * ms, version: "new"}, {start: 12 * ms, failed: true}, {start: 13 * ms, canceled: true},
			{start: 15 * ms, version: "old"},
		}, 5 * ms},
		"old at once": {[]sample{{start: 9 * ms, version: "new"}, {start: 10500 * time.Microsecond, version: "old"}}, 500 * time.Microsecond},
		"never old":   {[]sample{{start: 11 * ms, version: "new"}}, -1},
	}
	for name, c := range cases {
		if got := firstOnlyOld(c.samples, 10*ms, "old"); got != c.want {
			t.Errorf("%s: got %s, want %s", name, got, c.want)
		}
	}
}

func TestInstanceWaitIsTheUnionOfStartToReady(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ev := func(typ, id string, rev, ms int) api.Event {
		return api.Event{Type: typ, Time: at(ms), Data: map[string]any{"instance": id, "revision": float64(rev)}}
	}
	evs := []api.Event{
		ev("instance_started", "a", 2, 0), ev("instance_ready", "a", 2, 500),
		// b and c overlap: 600..1200 counts once.
		ev("instance_started", "b", 2, 600), ev("instance_started", "c", 2, 650),
		ev("instance_ready", "b", 2, 1100), ev("instance_ready", "c", 2, 1200),
		// Another revision's instance does not count.
		ev("instance_started", "old", 1, 0), ev("instance_ready", "old", 1, 5000),
		{Type: "deployment_succeeded", Time: at(1300)},
	}
	if got, want := instanceWait(evs, 2), 1100*time.Millisecond; got != want {
		t.Errorf("instanceWait: got %s, want %s", got, want)
	}
}

func TestSwitchRowsCountsRequestsOnTheOldColor(t *testing.T) {
	swaps := []swap{{t0: 10, t1: 12, to: "green"}, {t0: 100, t1: 102, to: "blue"}}
	samples := []sample{
		{start: 5, end: 9, version: "blue"},     // before the swap
		{start: 11, end: 20, version: "blue"},   // started during the swap: either color
		{start: 13, end: 20, version: "green"},  // checked, right
		{start: 14, end: 30, version: "blue"},   // checked, wrong
		{start: 95, end: 101, version: "blue"},  // ends after the next swap began: not bound
		{start: 103, end: 110, version: "blue"}, // checked against the second swap, right
	}
	r := &runEnv{out: testWriter{t}}
	rows := switchRows(r, swaps, samples)
	if got, want := rows[1].Value, "1 of 3"; got != want {
		t.Errorf("wrong-color row: got %q, want %q", got, want)
	}
	if rows[1].Verdict != "missed" {
		t.Errorf("verdict with a wrong color: got %q, want missed", rows[1].Verdict)
	}
}

func TestQuantiles(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	got := []time.Duration{median(ds), quantile(ds, 0.99), quantile(ds, 0), maxOf(ds), median(nil)}
	if diff := cmp.Diff(got, []time.Duration{3, 5, 1, 5, 0}); diff != "" {
		t.Errorf("median, p99, min, max, empty median (-got +want):\n%s", diff)
	}
}

func TestLoopbackURL(t *testing.T) {
	for url, ok := range map[string]bool{
		"http://127.0.0.1:8080/": true, "http://[::1]:80/": true, "http://127.3.4.5/": true,
		"http://10.0.0.1/": false, "http://example.com/": false, "http://localhost/": false,
	} {
		if err := loopbackURL(url); (err == nil) != ok {
			t.Errorf("loopbackURL(%q): error %v, want ok=%v", url, err, ok)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
