package proxy

import (
	"cmp"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Counts are one revision's request counters since the proxy started.
type Counts struct {
	// Requests is the number of requests answered on behalf of the revision (a request retried
	// on another revision counts there).
	Requests int64
	// Errors counts the 5xx answers, from the upstream or from the proxy (502, 504).
	Errors int64
	// ConnectErrors counts failed connection attempts to the revision's targets, retried or not.
	ConnectErrors int64
	// Timeouts counts upstreams that did not send response headers within the route's timeout.
	Timeouts int64
	// Latency is the sum of the requests' latencies, up to the upstream's response headers.
	Latency time.Duration
}

// latencyBounds are the histogram's upper bounds, in nanoseconds (Prometheus' defaults).
var latencyBounds = func() []int64 {
	b := make([]int64, len(prometheus.DefBuckets))
	for i, s := range prometheus.DefBuckets {
		b[i] = int64(s * float64(time.Second))
	}
	return b
}()

// revStats are one revision's counters, kept across traffic swaps.
type revStats struct {
	service       string
	revision      string
	revNum        int
	requests      atomic.Int64
	classes       [5]atomic.Int64 // 1xx..5xx
	errors        atomic.Int64
	connectErrors atomic.Int64
	timeouts      atomic.Int64
	latencySum    atomic.Int64
	buckets       [16]atomic.Int64 // per bound, non-cumulative; the last used slot is +Inf
	inflight      atomic.Int64
}

// observe counts one answered request.
func (s *revStats) observe(status int, latency int64) {
	s.requests.Add(1)
	if c := status/100 - 1; c >= 0 && c < len(s.classes) {
		s.classes[c].Add(1)
	}
	if status >= 500 {
		s.errors.Add(1)
	}
	s.latencySum.Add(latency)
	i := 0
	for i < len(latencyBounds) && latency > latencyBounds[i] {
		i++
	}
	s.buckets[i].Add(1)
}

func (s *revStats) counts() Counts {
	return Counts{
		Requests:      s.requests.Load(),
		Errors:        s.errors.Load(),
		ConnectErrors: s.connectErrors.Load(),
		Timeouts:      s.timeouts.Load(),
		Latency:       time.Duration(s.latencySum.Load()),
	}
}

// revStats returns the counters of the service's revision, creating them. Callers hold p.mu.
func (p *Proxy) revStats(service string, revision int) *revStats {
	m := p.stats[service]
	if m == nil {
		m = make(map[int]*revStats)
		p.stats[service] = m
	}
	s := m[revision]
	if s == nil {
		s = &revStats{service: service, revision: strconv.Itoa(revision), revNum: revision}
		m[revision] = s
	}
	return s
}

// Stats returns the service's counters per revision since the proxy started. Counters
// survive SetTargets; a revision appears once it has had targets.
func (p *Proxy) Stats(service string) map[int]Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int]Counts, len(p.stats[service]))
	for rev, s := range p.stats[service] {
		out[rev] = s.counts()
	}
	return out
}

// Collector returns a Prometheus collector of the proxy's per-revision metrics:
// cutover_requests_total{service,revision,code_class}, cutover_request_errors_total
// {service,revision,kind} (kind: 5xx, connect, timeout), cutover_request_duration_seconds
// {service,revision} and cutover_upstream_inflight{service,revision}.
func (p *Proxy) Collector() prometheus.Collector { return collector{p} }

var (
	descRequests = prometheus.NewDesc("cutover_requests_total",
		"Requests answered, by service, revision and status class.", []string{"service", "revision", "code_class"}, nil)
	descErrors = prometheus.NewDesc("cutover_request_errors_total",
		"Request errors: 5xx answers, failed connects and upstream timeouts.", []string{"service", "revision", "kind"}, nil)
	descDuration = prometheus.NewDesc("cutover_request_duration_seconds",
		"Time until the upstream's response headers.", []string{"service", "revision"}, nil)
	descInflight = prometheus.NewDesc("cutover_upstream_inflight",
		"Requests in flight to upstream targets.", []string{"service", "revision"}, nil)
	codeClasses = [5]string{"1xx", "2xx", "3xx", "4xx", "5xx"}
)

type collector struct{ p *Proxy }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRequests
	ch <- descErrors
	ch <- descDuration
	ch <- descInflight
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.p.mu.Lock()
	var all []*revStats
	for _, m := range c.p.stats {
		for _, s := range m {
			all = append(all, s)
		}
	}
	c.p.mu.Unlock()
	slices.SortFunc(all, func(a, b *revStats) int {
		return cmp.Or(cmp.Compare(a.service, b.service), cmp.Compare(a.revNum, b.revNum))
	})
	for _, s := range all {
		for i, name := range codeClasses {
			ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(s.classes[i].Load()), s.service, s.revision, name)
		}
		ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(s.errors.Load()), s.service, s.revision, "5xx")
		ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(s.connectErrors.Load()), s.service, s.revision, "connect")
		ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(s.timeouts.Load()), s.service, s.revision, "timeout")
		ch <- s.histogram()
		ch <- prometheus.MustNewConstMetric(descInflight, prometheus.GaugeValue, float64(s.inflight.Load()), s.service, s.revision)
	}
}

func (s *revStats) histogram() prometheus.Metric {
	buckets := make(map[float64]uint64, len(latencyBounds))
	var cum uint64
	for i, bound := range prometheus.DefBuckets {
		cum += uint64(s.buckets[i].Load())
		buckets[bound] = cum
	}
	count := cum + uint64(s.buckets[len(latencyBounds)].Load())
	sum := time.Duration(s.latencySum.Load()).Seconds()
	return prometheus.MustNewConstHistogram(descDuration, count, sum, buckets, s.service, s.revision)
}
