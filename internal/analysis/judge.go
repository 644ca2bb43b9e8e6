package analysis

import (
	"fmt"
	"math"
)

// Counts are one revision's counters, cumulative since a fixed start such as the proxy's.
type Counts struct {
	Requests int64
	Errors   int64
	// Latency holds request counts per histogram bucket (not cumulative across buckets): one per
	// Config.LatencyBounds entry, then one for larger latencies. Nil when unknown; a histogram of
	// another length is ignored.
	Latency []int64
	// Endpoints are the counters of the route's endpoints, by name, for Strata.
	Endpoints map[string]Counts
}

// Sample is one reading of both revisions' cumulative counters, taken at the end of a window.
// Baseline is the revision the canary is compared with: stable, or a fresh baseline.
type Sample struct {
	Canary   Counts
	Baseline Counts
}

// Judge accumulates samples of one analysis and judges the canary. It is not safe for
// concurrent use; Observe does a few passes over the windows' histograms (a few microseconds
// for the proxy's 1,538 buckets), Verdict a few dozen floating-point operations.
type Judge struct {
	cfg     Config
	started bool
	prev    Sample
	ev      Evidence // counts since the start; the statistics are filled in by evidence()
	canaryH []int64  // latency histograms since the start
	baseH   []int64
	baseN   int64 // total(baseH)
	baseLo  int   // the first bucket of baseH that is not empty (len(baseH) when none is)
	errs    mixture
	lat     [2]quantileTest // the median's, then the tail quantile's
	limit   limitTest       // max_p99, when set
	failed  *Verdict
	margin  *margins // the margin tests of an evidence-paced ramp, nil when off
	logs    shareLogs
	dc, db  []int64 // scratch for the window's histograms
	pc, pb  []int64 // scratch for their prefix sums
}

// New returns a Judge for cfg, or the errors of Validate.
func New(cfg Config) (*Judge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	j := &Judge{cfg: cfg, baseLo: len(cfg.LatencyBounds) + 1}
	j.lat[0].q, j.lat[1].q = medianQuantile, cfg.LatencyQuantile
	if cfg.MaxP99 > 0 {
		j.limit = newLimitTest(cfg.LatencyBounds, cfg.MaxP99)
	}
	return j, nil
}

// Observe folds in the counters read at the end of a window; it does not keep s's slices. The
// first sample is the starting
// point. A sample with any counter lower than the previous one (a restarted proxy) becomes the
// new starting point and contributes nothing. Once the canary has failed, samples are ignored
// and the failing verdict stands.
func (j *Judge) Observe(s Sample) {
	if j.failed != nil {
		return
	}
	if !j.started || backwards(j.prev, s) {
		if j.started {
			j.ev.Resets++
		}
		j.started = true
		j.keep(s)
		return
	}
	c, b := delta(j.prev.Canary, s.Canary, j.dc), delta(j.prev.Baseline, s.Baseline, j.db)
	j.dc, j.db = c.Latency, b.Latency
	if j.cfg.mergeOneSided && (c.Requests == 0) != (b.Requests == 0) {
		return // the next window starts where this one did
	}
	j.keep(s)
	j.ev.Windows++
	j.ev.Canary.Requests += c.Requests
	j.ev.Canary.Errors += c.Errors
	j.ev.Baseline.Requests += b.Requests
	j.ev.Baseline.Errors += b.Errors
	j.errs.observe(&j.logs, share(c.Requests, b.Requests), c.Errors, b.Errors)
	if j.margin != nil {
		j.margin.requests += c.Requests
		j.margin.errs.observe(share(c.Requests, b.Requests), c.Errors, b.Errors)
	}
	j.observeLatency(c.Latency, b.Latency)
	if v, ok := j.check(); ok {
		j.failed = &v
	}
}

// keep makes s the reading the next one is compared with, copying its histograms so that the
// caller may reuse them.
func (j *Judge) keep(s Sample) {
	copyCounts := func(dst *Counts, src Counts) {
		h := dst.Latency
		*dst = src
		dst.Latency = nil
		if src.Latency != nil {
			dst.Latency = append(h[:0], src.Latency...)
		}
	}
	copyCounts(&j.prev.Canary, s.Canary)
	copyCounts(&j.prev.Baseline, s.Baseline)
}

// observeLatency folds in one window's histograms (nil when either is missing). The latency
// tests' thresholds come from the baseline's histogram before this window, so they are fixed
// by data already seen and the tests stay valid (see quantileTest).
func (j *Judge) observeLatency(c, b []int64) {
	if !j.histOK(c) || !j.histOK(b) {
		return
	}
	on := !j.cfg.SkipLatency && j.baseN >= j.cfg.LatencyBurnIn && j.baseN > 0
	if on {
		for i := range j.lat {
			j.lat[i].setThresholds(j.cfg.LatencyBounds, *j.cfg.LatencyTolerance, j.baseH, j.baseN, j.baseLo)
		}
	}
	j.canaryH, j.pc, _ = accumulate(j.canaryH, c, j.pc)
	var lo int
	j.baseH, j.pb, lo = accumulate(j.baseH, b, j.pb)
	j.baseLo = min(j.baseLo, lo)
	nc, nb := j.pc[len(j.pc)-1], j.pb[len(j.pb)-1]
	if j.cfg.MaxP99 > 0 {
		j.limit.observe(j.pc)
	}
	if on {
		for i := range j.lat {
			sc, sb := j.lat[i].count(&j.logs, j.pc, j.pb, share(nc, nb))
			if j.margin != nil {
				j.margin.lat[i].started = true
				j.margin.lat[i].observe(share(nc, nb), sc, sb)
			}
		}
	}
	j.baseN += nb
}

// share is the canary's share of a window's requests, NaN when there were none.
func share(nc, nb int64) float64 {
	if nc+nb <= 0 {
		return math.NaN()
	}
	return float64(nc) / float64(nc+nb)
}

// histOK reports whether a histogram has the configured number of buckets.
func (j *Judge) histOK(h []int64) bool { return len(h) == len(j.cfg.LatencyBounds)+1 }

// backwards reports whether any counter of b is below the same counter of a.
func backwards(a, b Sample) bool {
	less := func(x, y Counts) bool {
		if y.Requests < x.Requests || y.Errors < x.Errors {
			return true
		}
		if len(x.Latency) != len(y.Latency) {
			return false
		}
		for i := range x.Latency {
			if y.Latency[i] < x.Latency[i] {
				return true
			}
		}
		return false
	}
	return less(a.Canary, b.Canary) || less(a.Baseline, b.Baseline)
}

// delta returns the counts between two readings; errors are capped at requests (counters
// read a moment apart), and Latency is nil unless both readings have histograms of one length.
// The histogram is written into buf when it is large enough.
func delta(a, b Counts, buf []int64) Counts {
	d := Counts{Requests: b.Requests - a.Requests, Errors: b.Errors - a.Errors}
	d.Errors = min(d.Errors, d.Requests)
	if len(a.Latency) == len(b.Latency) && b.Latency != nil {
		d.Latency = append(buf[:0], b.Latency...)
		for i, x := range a.Latency {
			d.Latency[i] -= x
		}
	}
	return d
}

// logThreshold is log(1/alpha).
func (j *Judge) logThreshold() float64 { return -math.Log(j.cfg.Alpha) }

// Prior weights of the sequential tests in the combined e-value, before the tests that are
// off are left out and the rest scaled to add up to 1. Most of the weight goes to the error
// test: errors are scarce (a tenfold regression at a 5% share shows about one canary error
// every 20 s), while every request has a latency, so the latency tests gather evidence fast
// even with a small share of alpha.
const (
	weightErrors  = 0.9
	weightLatency = 0.05 // each of the median's and the tail quantile's tests
	weightLimit   = 0.05 // max_p99
)

// part is one sequential test in the combined e-value: its rule, weight and log e-value.
type part struct {
	rule Rule
	w    float64
	logE float64
}

// parts returns the tests that are on, their weights scaled to add up to 1 (none when no
// test is on). The two latency tests share RuleLatency.
func (j *Judge) parts() []part {
	var ps []part
	if !j.cfg.SkipErrors {
		ps = append(ps, part{RuleErrorRatio, weightErrors, j.errs.logE()})
	}
	if !j.cfg.SkipLatency {
		for i := range j.lat {
			ps = append(ps, part{RuleLatency, weightLatency, j.lat[i].m.logE()})
		}
	}
	if j.cfg.MaxP99 > 0 {
		ps = append(ps, part{RuleMaxP99, weightLimit, j.limit.m.logE()})
	}
	var sum float64
	for _, p := range ps {
		sum += p.w
	}
	for i := range ps {
		ps[i].w /= sum
	}
	return ps
}

// combined returns the log of the weighted average of the parts' e-values, and the part with
// the largest weighted term (the rule that decides a failure); -Inf and nil without parts.
func combined(ps []part) (float64, *part) {
	top, best := math.Inf(-1), (*part)(nil)
	for i := range ps {
		if l := math.Log(ps[i].w) + ps[i].logE; l > top {
			top, best = l, &ps[i]
		}
	}
	if best == nil {
		return top, nil
	}
	var sum float64
	for _, p := range ps {
		sum += math.Exp(math.Log(p.w) + p.logE - top)
	}
	return top + math.Log(sum), best
}

// check returns a fail verdict when a rule fails now.
func (j *Judge) check() (Verdict, bool) {
	if le, best := combined(j.parts()); best != nil && le >= j.logThreshold() {
		ev := j.evidence()
		switch best.rule {
		case RuleErrorRatio:
			return Verdict{Fail, RuleErrorRatio, errorReason(ev), ev}, true
		case RuleLatency:
			return Verdict{Fail, RuleLatency, latencyReason(ev), ev}, true
		}
		return Verdict{Fail, RuleMaxP99, limitReason(ev), ev}, true
	}
	c := j.ev.Canary
	if m := j.cfg.MaxErrorRate; m != nil && c.Requests >= j.cfg.MinRequests && c.Requests > 0 &&
		float64(c.Errors) > *m*float64(c.Requests) {
		ev := j.evidence()
		return Verdict{Fail, RuleMaxErrorRate, fmt.Sprintf("canary error rate %s (%d of %d requests) is above max_error_rate %s",
			pct(ev.Canary.ErrorRate), c.Errors, c.Requests, pct(*m)), ev}, true
	}
	return Verdict{}, false
}
