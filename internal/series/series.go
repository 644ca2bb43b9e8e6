// Package series keeps, in memory, a short bounded history of each revision's traffic: one
// sample per interval (request rate, error rate, p99 latency), the newest Capacity of them
// (default 360: an hour at one sample per 10 s). It is fed with the proxy's cumulative
// counters and keeps only the previous counters and the rings, so its memory is bounded by
// services × revisions × Capacity whatever the traffic. The dashboard draws its charts from it.
package series

import (
	"sync"
	"time"

	"github.com/cutover/cutover/internal/latency"
)

// Counts are one revision's cumulative counters since the proxy started: requests, errors
// and the fine latency histogram in package latency's layout.
type Counts struct {
	Requests, Errors int64
	Latency          []int64
}

// Point is one revision's traffic over one interval.
type Point struct {
	Time time.Time `json:"t"`
	// Requests answered in the interval; Rate per second.
	Requests int64   `json:"requests"`
	Rate     float64 `json:"rate"`
	// ErrorRate is the share of those requests that failed, 0 with none.
	ErrorRate float64 `json:"error_rate"`
	// P99 is the interval's 99th percentile latency in milliseconds (the bucket's upper
	// bound, within 1.6%), 0 with no request.
	P99 float64 `json:"p99_ms"`
}

// DefaultCapacity is an hour of samples at one per 10 s.
const DefaultCapacity = 360

// Recorder holds the rings. Its zero value is not usable: use New.
type Recorder struct {
	mu       sync.Mutex
	capacity int
	prev     map[string]map[int]prevCounts
	rings    map[string]map[int]*ring
	usage    map[string]usageSeen
	at       time.Time // time of the newest sample
	seq      int64     // number of Observe rounds ended, for a stream to notice a new one
}

type prevCounts struct {
	requests, errors int64
	latency          []int64
}

// New returns a Recorder keeping capacity samples per revision (0: DefaultCapacity).
func New(capacity int) *Recorder {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Recorder{capacity: capacity, prev: map[string]map[int]prevCounts{}, rings: map[string]map[int]*ring{}}
}

// Sample is one reading: every service's cumulative counters per revision, and every
// instance's usage by ID.
type Sample struct {
	Counts map[string]map[int]Counts
	Usage  map[string]Usage
}

// Observe records one sample per revision of every service in s.Counts, taken at now: what
// happened since the previous call; and each instance's usage. The first call for a revision only remembers its
// counters. A negative revision (a canary's baseline group) is folded into its revision. A
// service or revision absent from counts keeps its ring, and a service missing from counts
// altogether is dropped.
func (r *Recorder) Observe(now time.Time, s Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	counts := s.Counts
	r.observeUsage(now, s.Usage)
	for svc := range r.rings {
		if _, ok := counts[svc]; !ok {
			delete(r.rings, svc)
			delete(r.prev, svc)
		}
	}
	for svc, revs := range counts {
		r.observeService(now, svc, fold(revs))
	}
	r.at = now
	r.seq++
}

func (r *Recorder) observeService(now time.Time, svc string, revs map[int]Counts) {
	prev, rings := r.prev[svc], r.rings[svc]
	if prev == nil {
		prev, rings = map[int]prevCounts{}, map[int]*ring{}
		r.prev[svc], r.rings[svc] = prev, rings
	}
	for rev, c := range revs {
		p, seen := prev[rev]
		if seen && c.Requests >= p.requests { // else first sight, or restarted counters
			if rings[rev] == nil {
				rings[rev] = &ring{points: make([]Point, 0, r.capacity)}
			}
			rings[rev].add(point(now, r.interval(now), c, p), r.capacity)
		}
		prev[rev] = prevCounts{requests: c.Requests, errors: c.Errors, latency: append(p.latency[:0], c.Latency...)}
	}
}

// interval is the time since the previous sample (at least a millisecond).
func (r *Recorder) interval(now time.Time) time.Duration {
	if r.at.IsZero() || !now.After(r.at) {
		return time.Millisecond
	}
	return max(now.Sub(r.at), time.Millisecond)
}

func point(now time.Time, dt time.Duration, c Counts, p prevCounts) Point {
	req, errs := c.Requests-p.requests, max(c.Errors-p.errors, 0)
	pt := Point{Time: now.UTC(), Requests: req, Rate: float64(req) / dt.Seconds()}
	if req > 0 {
		pt.ErrorRate = min(float64(errs)/float64(req), 1)
		pt.P99 = p99(c.Latency, p.latency)
	}
	return pt
}

// p99 is the 99th percentile of the histogram cur minus prev, in milliseconds.
func p99(cur, prev []int64) float64 {
	var total int64
	delta := make([]int64, len(cur))
	for i, n := range cur {
		if i < len(prev) {
			n -= prev[i]
		}
		delta[i] = max(n, 0)
		total += delta[i]
	}
	if total == 0 {
		return 0
	}
	want := (total*99 + 99) / 100 // the ceiling of 0.99 × total
	var seen int64
	for i, n := range delta {
		seen += n
		if seen >= want {
			if i >= latency.Buckets-1 {
				i = latency.Buckets - 2 // the unbounded bucket: report its lower bound
			}
			return float64(latency.Bound(i)) / float64(time.Millisecond)
		}
	}
	return 0
}

// fold adds a negative revision's counters (a baseline group) to its revision's.
func fold(revs map[int]Counts) map[int]Counts {
	out := make(map[int]Counts, len(revs))
	for rev, c := range revs {
		rev = max(rev, -rev)
		o := out[rev]
		o.Requests += c.Requests
		o.Errors += c.Errors
		if len(o.Latency) < len(c.Latency) {
			o.Latency = append(o.Latency, make([]int64, len(c.Latency)-len(o.Latency))...)
		}
		for i, n := range c.Latency {
			o.Latency[i] += n
		}
		out[rev] = o
	}
	return out
}

// Service returns the service's samples per revision, oldest first (nil: none).
func (r *Recorder) Service(service string) map[int][]Point {
	r.mu.Lock()
	defer r.mu.Unlock()
	rings := r.rings[service]
	if rings == nil {
		return nil
	}
	out := make(map[int][]Point, len(rings))
	for rev, g := range rings {
		out[rev] = g.ordered()
	}
	return out
}

// Latest is the newest sample of every revision that has one, by service, and the number of
// sampling rounds so far (it grows by one per Observe).
type Latest struct {
	Seq      int64                    `json:"seq"`
	Time     time.Time                `json:"t"`
	Services map[string]map[int]Point `json:"services"`
}

// Latest returns the newest sample of each revision sampled in the last round.
func (r *Recorder) Latest() Latest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Latest{Seq: r.seq, Time: r.at.UTC(), Services: map[string]map[int]Point{}}
	for svc, rings := range r.rings {
		m := map[int]Point{}
		for rev, g := range rings {
			if p, ok := g.last(); ok && p.Time.Equal(r.at.UTC()) {
				m[rev] = p
			}
		}
		out.Services[svc] = m
	}
	return out
}

// ring is a fixed-size circular buffer of points.
type ring struct {
	points []Point
	next   int // where the next point goes once the ring is full
}

func (g *ring) add(p Point, capacity int) {
	if len(g.points) < capacity {
		g.points = append(g.points, p)
		return
	}
	g.points[g.next] = p
	g.next = (g.next + 1) % capacity
}

func (g *ring) ordered() []Point {
	out := make([]Point, 0, len(g.points))
	out = append(out, g.points[g.next:]...)
	return append(out, g.points[:g.next]...)
}

func (g *ring) last() (Point, bool) {
	if len(g.points) == 0 {
		return Point{}, false
	}
	i := len(g.points) - 1
	if g.next > 0 {
		i = g.next - 1
	}
	return g.points[i], true
}
