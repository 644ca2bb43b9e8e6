package loadgen

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Result is the outcome of one scheduled request.
type Result struct {
	// Seq is the request's place in the schedule, from 0.
	Seq int64
	// Scheduled is when the schedule wanted the request sent.
	Scheduled time.Time
	// Dropped is true when no worker was free at Scheduled, so the generator never sent it.
	Dropped bool
	// Canceled is true when Run's ctx ended while the request was in flight.
	Canceled bool
	// Failed is true for a transport error, a timeout or a failing status (see Config.FailStatus).
	Failed bool
	// Kind is the short failure kind ("refused", "timeout", "http_500", ...); empty if not failed.
	Kind string
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Version is the response's X-Version header.
	Version string
	// Latency runs from sending to the end of the response body.
	Latency time.Duration
	// Err is the transport error, nil when a response arrived.
	Err error
}

// Summary is a tally of results. Sent = OK + Failed + Canceled; GeneratorDropped requests
// were scheduled but never sent. Latency percentiles cover requests that got a response.
type Summary struct {
	Sent, OK, Failed, Canceled, GeneratorDropped int64
	// ByStatus counts responses by HTTP status.
	ByStatus map[int]int64
	// ByVersion counts responses (any status) by their X-Version header, when present.
	ByVersion map[string]int64
	// Errors counts failures by kind.
	Errors map[string]int64
	// P50, P99, P999 are within ~0.4% of the exact percentiles; Max is exact.
	P50, P99, P999, Max time.Duration
	// Elapsed is the time from the tally's start to the snapshot (or to Run's end).
	Elapsed time.Duration
}

// String is a one-line human tally, e.g.
// "sent 1000 ok 998 failed 2 dropped 0 | 200:998 500:2 | v1:500 v2:500 | http_500:2 | p50 1.2ms p99 3ms p99.9 8ms max 9ms | 5s".
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sent %d ok %d failed %d dropped %d", s.Sent, s.OK, s.Failed, s.GeneratorDropped)
	if s.Canceled > 0 {
		fmt.Fprintf(&b, " canceled %d", s.Canceled)
	}
	b.WriteString(" | ")
	b.WriteString(joinCounts(s.ByStatus, func(k int) string { return fmt.Sprint(k) }))
	b.WriteString(" | ")
	b.WriteString(joinCounts(s.ByVersion, func(k string) string { return k }))
	b.WriteString(" | ")
	if len(s.Errors) == 0 {
		b.WriteString("no errors")
	} else {
		b.WriteString(joinCounts(s.Errors, func(k string) string { return k }))
	}
	fmt.Fprintf(&b, " | p50 %s p99 %s p99.9 %s max %s | %s",
		round(s.P50), round(s.P99), round(s.P999), round(s.Max), s.Elapsed.Round(time.Millisecond))
	return b.String()
}

// joinCounts formats m as "k:v k:v" in key order, or "-" when empty.
func joinCounts[K cmp.Ordered](m map[K]int64, name func(K) string) string {
	if len(m) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s:%d", name(k), m[k]))
	}
	return strings.Join(parts, " ")
}

// round keeps three significant digits or so, for reading.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

// Tally accumulates Results. It is safe for concurrent use: Add from Run's onResult while
// another goroutine prints Snapshot every second. The zero Tally is ready to use and
// measures Elapsed from its first Add; NewTally measures from its creation.
type Tally struct {
	mu    sync.Mutex
	start time.Time
	s     Summary
	hist  histogram
}

// NewTally returns an empty Tally whose Elapsed counts from now.
func NewTally() *Tally {
	return &Tally{start: time.Now()}
}

// Add counts one result.
func (t *Tally) Add(r Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.start.IsZero() {
		t.start = time.Now()
	}
	s := &t.s
	if r.Dropped {
		s.GeneratorDropped++
		return
	}
	s.Sent++
	switch {
	case r.Canceled:
		s.Canceled++
	case r.Failed:
		s.Failed++
		s.Errors = inc(s.Errors, r.Kind)
	default:
		s.OK++
	}
	if r.Status != 0 {
		s.ByStatus = inc(s.ByStatus, r.Status)
		t.hist.record(r.Latency)
	}
	if r.Version != "" {
		s.ByVersion = inc(s.ByVersion, r.Version)
	}
}

func inc[K comparable](m map[K]int64, k K) map[K]int64 {
	if m == nil {
		m = make(map[K]int64)
	}
	m[k]++
	return m
}

// cloneMap copies m; the copy is never nil.
func cloneMap[K comparable](m map[K]int64) map[K]int64 {
	c := make(map[K]int64, len(m))
	maps.Copy(c, m)
	return c
}

// Snapshot returns the tally so far; its maps are non-nil copies the caller may keep.
func (t *Tally) Snapshot() Summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.s
	s.ByStatus = cloneMap(s.ByStatus)
	s.ByVersion = cloneMap(s.ByVersion)
	s.Errors = cloneMap(s.Errors)
	s.P50 = t.hist.quantile(0.50)
	s.P99 = t.hist.quantile(0.99)
	s.P999 = t.hist.quantile(0.999)
	s.Max = t.hist.max
	if !t.start.IsZero() {
		s.Elapsed = time.Since(t.start)
	}
	return s
}
