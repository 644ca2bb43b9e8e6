package series

import (
	"testing"
	"time"

	"github.com/cutover/cutover/internal/latency"
)

// hist is a histogram with n requests at each of the latencies given.
func hist(at map[time.Duration]int64) []int64 {
	h := make([]int64, latency.Buckets)
	for d, n := range at {
		h[latency.Index(int64(d))] += n
	}
	return h
}

func TestPointsAreDeltasWithP99(t *testing.T) {
	r := New(3)
	t0 := time.Unix(1000, 0)
	r.Observe(t0, Sample{Counts: map[string]map[int]Counts{"web": {1: {Requests: 10, Errors: 1, Latency: hist(map[time.Duration]int64{time.Millisecond: 10})}}}})
	if got := r.Service("web"); len(got[1]) != 0 {
		t.Fatalf("first sight recorded points: %v", got)
	}
	// 100 more requests in 10 s: 98 fast, 2 slow (p99 is slow), 5 errors.
	h := hist(map[time.Duration]int64{time.Millisecond: 108, 200 * time.Millisecond: 2})
	r.Observe(t0.Add(10*time.Second), Sample{Counts: map[string]map[int]Counts{"web": {1: {Requests: 110, Errors: 6, Latency: h}}}})
	p := r.Service("web")[1]
	if len(p) != 1 {
		t.Fatalf("points: %v", p)
	}
	if p[0].Requests != 100 || p[0].Rate != 10 || p[0].ErrorRate != 0.05 {
		t.Errorf("point %+v, want 100 requests, 10/s, 5%% errors", p[0])
	}
	if p[0].P99 < 196 || p[0].P99 > 204 {
		t.Errorf("p99 %.1f ms, want 200 within 2%%", p[0].P99)
	}
	l := r.Latest()
	if l.Seq != 2 || l.Services["web"][1].Requests != 100 {
		t.Errorf("latest %+v", l)
	}
}

// TestRingIsBounded: however many samples, a revision keeps Capacity of them, newest last,
// and a baseline group's counters (a negative revision) go to its revision.
func TestRingIsBounded(t *testing.T) {
	r := New(4)
	t0 := time.Unix(1000, 0)
	for i := range 50 {
		r.Observe(t0.Add(time.Duration(i)*time.Second), Sample{Counts: map[string]map[int]Counts{"web": {
			2: {Requests: int64(i * 10)}, -2: {Requests: int64(i)}}}})
	}
	p := r.Service("web")[2]
	if len(p) != 4 || cap(p) > 4 {
		t.Fatalf("kept %d points (cap %d), want 4", len(p), cap(p))
	}
	for i, pt := range p {
		if want := t0.Add(time.Duration(46+i) * time.Second).UTC(); !pt.Time.Equal(want) || pt.Requests != 11 {
			t.Errorf("point %d: %v %d requests, want %v with 11", i, pt.Time, pt.Requests, want)
		}
	}
	if _, ok := r.Service("web")[-2]; ok {
		t.Error("the baseline group has a ring of its own")
	}
	r.Observe(t0.Add(time.Hour), Sample{Counts: map[string]map[int]Counts{}})
	if r.Service("web") != nil {
		t.Error("a service gone from the proxy keeps its samples")
	}
}

// TestUsageIsCPUShareOverTheInterval: 5 s of CPU in 10 s is 50%; an instance no longer read
// is forgotten.
func TestUsageIsCPUShareOverTheInterval(t *testing.T) {
	r := New(0)
	t0 := time.Unix(1000, 0)
	r.Observe(t0, Sample{Usage: map[string]Usage{"a": {CPU: time.Second, Memory: 1 << 20}}})
	if u, ok := r.Usage("a"); !ok || u.CPUPercent != 0 || u.Memory != 1<<20 {
		t.Errorf("first reading %+v %v", u, ok)
	}
	r.Observe(t0.Add(10*time.Second), Sample{Usage: map[string]Usage{"a": {CPU: 6 * time.Second, Memory: 2 << 20}}})
	if u, _ := r.Usage("a"); u.CPUPercent != 50 || u.Memory != 2<<20 {
		t.Errorf("second reading %+v, want 50%% and 2 MiB", u)
	}
	r.Observe(t0.Add(20*time.Second), Sample{})
	if _, ok := r.Usage("a"); ok || len(r.AllUsage()) != 0 {
		t.Error("an instance gone keeps its usage")
	}
}
