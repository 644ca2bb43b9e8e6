package proxy

import (
	"cmp"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cutover/cutover/internal/latency"
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
	// ClientErrors counts requests routed to the revision that failed on the client's side:
	// the client went away, cut or malformed its body, sent more than the route's body cap, or
	// stalled its body while the upstream gave up (see forward). They are not the revision's
	// failures: they are in neither Requests nor Errors.
	ClientErrors int64
	// LatencySum is the sum of the requests' latencies, up to the upstream's response headers.
	LatencySum time.Duration
	// Latency is the fine histogram of those latencies, in package latency's layout:
	// Latency[i] counts the requests that took more than latency.Bound(i-1) and at most
	// latency.Bound(i); the last element counts the slower ones. Its elements add up to
	// Requests. The canary judge reads quantiles from it to within 1.6%.
	Latency []int64
	// Endpoints are the counters of the route's endpoints (Requests, Errors and Latency
	// only), by name; nil when no request of the revision belonged to one.
	Endpoints map[string]Counts
}

// LatencyBounds are the upper bounds, in seconds, of the request-duration histogram the proxy
// exports to Prometheus (Prometheus' default buckets). Read only.
var LatencyBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// latencySeconds and latencyBounds (in nanoseconds) are the bounds the proxy uses, copied so
// that a caller writing to LatencyBounds cannot change them.
var (
	latencySeconds = slices.Clone(LatencyBounds)
	latencyBounds  = func() []int64 {
		b := make([]int64, len(latencySeconds))
		for i, s := range latencySeconds {
			b[i] = int64(s * float64(time.Second))
		}
		return b
	}()
)

// maxBuckets is the room revStats has for the histogram: the bounds and one overflow bucket.
const maxBuckets = 16

// revStats are one revision's counters, kept across traffic swaps.
type revStats struct {
	service       string
	revision      string
	revNum        int
	role          string // label for the current role; guarded by Proxy.mu
	requests      atomic.Int64
	classes       [5]atomic.Int64 // 1xx..5xx
	errors        atomic.Int64
	connectErrors atomic.Int64
	timeouts      atomic.Int64
	clientErrors  atomic.Int64
	latencySum    atomic.Int64
	buckets       [maxBuckets]atomic.Int64 // per bound, non-cumulative; the last used slot is +Inf
	inflight      atomic.Int64
	fine          [latency.Buckets]atomic.Int64 // the judge's histogram, non-cumulative
	endpoints     endpoints
}

// observe counts one answered request of endpoint ep ("": none) that took ns nanoseconds.
// It takes no lock and allocates nothing (but for an endpoint's first request): a few atomic
// additions.
func (s *revStats) observe(status int, ns int64, ep string) {
	s.endpoints.observe(ep, status, ns)
	s.requests.Add(1)
	if c := status/100 - 1; c >= 0 && c < len(s.classes) {
		s.classes[c].Add(1)
	}
	if status >= 500 {
		s.errors.Add(1)
	}
	s.latencySum.Add(ns)
	i := 0
	for i < len(latencyBounds) && ns > latencyBounds[i] {
		i++
	}
	s.buckets[i].Add(1)
	s.fine[latency.Index(ns)].Add(1)
}

func (s *revStats) counts() Counts {
	c := Counts{
		Requests:      s.requests.Load(),
		Errors:        s.errors.Load(),
		ConnectErrors: s.connectErrors.Load(),
		Timeouts:      s.timeouts.Load(),
		ClientErrors:  s.clientErrors.Load(),
		LatencySum:    time.Duration(s.latencySum.Load()),
		Latency:       make([]int64, latency.Buckets),
		Endpoints:     s.endpoints.counts(),
	}
	for i := range c.Latency {
		c.Latency[i] = s.fine[i].Load()
	}
	return c
}

// roleLabel is the metrics' label for a Group.Role.
func roleLabel(role string) string {
	if role == "" {
		return roleUnknown
	}
	return role
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
		// A baseline group's revision is the negative of the revision it runs: its label is
		// that revision, and the role label tells it apart.
		s = &revStats{service: service, revision: strconv.Itoa(max(revision, -revision)), revNum: revision, role: roleUnknown}
		m[revision] = s
	}
	return s
}

// Stats returns the service's counters per revision since the proxy started. Counters
// survive SetTargets; a revision appears once it has had targets. The histogram's counts are
// read one by one while requests go on, so under load they may add up to a little more or
// less than Requests.
func (p *Proxy) Stats(service string) map[int]Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int]Counts, len(p.stats[service]))
	for rev, s := range p.stats[service] {
		out[rev] = s.counts()
	}
	return out
}

// Collector returns a Prometheus collector of the proxy's per-revision metrics, each labelled
// with service, revision and role (the revision's current Group.Role, "unknown" if empty):
// cutover_requests_total{code_class}, cutover_request_errors_total{kind} (kind: 5xx, connect,
// timeout), cutover_client_errors_total (Counts.ClientErrors), cutover_request_duration_seconds
// (buckets LatencyBounds) and cutover_upstream_inflight.
func (p *Proxy) Collector() prometheus.Collector { return collector{p} }

var (
	revLabels    = []string{"service", "revision", "role"}
	descRequests = prometheus.NewDesc("cutover_requests_total",
		"Requests answered, by service, revision, role and status class.", append(slices.Clone(revLabels), "code_class"), nil)
	descErrors = prometheus.NewDesc("cutover_request_errors_total",
		"Request errors: 5xx answers, failed connects and upstream timeouts.", append(slices.Clone(revLabels), "kind"), nil)
	descClientErrors = prometheus.NewDesc("cutover_client_errors_total",
		"Requests that failed on the client's side (gone, body cut, malformed, too large or stalled); not the revision's errors.", revLabels, nil)
	descDuration = prometheus.NewDesc("cutover_request_duration_seconds",
		"Time until the upstream's response headers.", revLabels, nil)
	descInflight = prometheus.NewDesc("cutover_upstream_inflight",
		"Requests in flight to upstream targets.", revLabels, nil)
	codeClasses = [5]string{"1xx", "2xx", "3xx", "4xx", "5xx"}
)

type collector struct{ p *Proxy }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRequests
	ch <- descErrors
	ch <- descClientErrors
	ch <- descDuration
	ch <- descInflight
}

// labelled is a revision's counters with its role when they were gathered.
type labelled struct {
	s    *revStats
	role string
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.p.mu.Lock()
	var all []labelled
	for _, m := range c.p.stats {
		for _, s := range m {
			all = append(all, labelled{s, s.role})
		}
	}
	c.p.mu.Unlock()
	slices.SortFunc(all, func(a, b labelled) int {
		return cmp.Or(cmp.Compare(a.s.service, b.s.service), cmp.Compare(a.s.revNum, b.s.revNum))
	})
	for _, l := range all {
		s, lv := l.s, []string{l.s.service, l.s.revision, l.role}
		counter := func(d *prometheus.Desc, n *atomic.Int64, extra string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(n.Load()), append(lv[:3:3], extra)...)
		}
		for i, name := range codeClasses {
			counter(descRequests, &s.classes[i], name)
		}
		counter(descErrors, &s.errors, "5xx")
		counter(descErrors, &s.connectErrors, "connect")
		counter(descErrors, &s.timeouts, "timeout")
		ch <- prometheus.MustNewConstMetric(descClientErrors, prometheus.CounterValue, float64(s.clientErrors.Load()), lv...)
		ch <- s.histogram(lv)
		ch <- prometheus.MustNewConstMetric(descInflight, prometheus.GaugeValue, float64(s.inflight.Load()), lv...)
	}
}

func (s *revStats) histogram(labels []string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(latencySeconds))
	var cum uint64
	for i, bound := range latencySeconds {
		cum += uint64(s.buckets[i].Load())
		buckets[bound] = cum
	}
	count := cum + uint64(s.buckets[len(latencySeconds)].Load())
	sum := time.Duration(s.latencySum.Load()).Seconds()
	return prometheus.MustNewConstHistogram(descDuration, count, sum, buckets, labels...)
}
