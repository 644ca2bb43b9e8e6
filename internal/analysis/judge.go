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
}

// Sample is one reading of both revisions' cumulative counters, taken at the end of a window.
// Baseline is the revision the canary is compared with: stable, or a fresh baseline.
type Sample struct {
	Canary   Counts
	Baseline Counts
}

// Judge accumulates samples of one analysis and judges the canary. It is not safe for
// concurrent use; Observe and Verdict do a few dozen floating-point operations each.
type Judge struct {
	cfg     Config
	started bool
	prev    Sample
	ev      Evidence // counts since the start; the statistics are filled in by evidence()
	canaryH []int64  // latency histograms since the start
	baseH   []int64
	errs    mixture
	slow    mixture
	slowIdx int // bucket index of the latency threshold, -1 during burn-in
	failed  *Verdict
	logs    shareLogs
	dc, db  []int64 // scratch for the window's histograms
}

// New returns a Judge for cfg, or the errors of Validate.
func New(cfg Config) (*Judge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Judge{cfg: cfg.withDefaults(), slowIdx: -1}, nil
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
	j.keep(s)
	j.ev.Windows++
	j.ev.Canary.Requests += c.Requests
	j.ev.Canary.Errors += c.Errors
	j.ev.Baseline.Requests += b.Requests
	j.ev.Baseline.Errors += b.Errors
	j.errs.observe(&j.logs, share(c.Requests, b.Requests), c.Errors, b.Errors)
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

// observeLatency folds in one window's histograms (nil when either is missing).
func (j *Judge) observeLatency(c, b []int64) {
	if !j.histOK(c) || !j.histOK(b) {
		return
	}
	j.canaryH, j.baseH = addInto(j.canaryH, c), addInto(j.baseH, b)
	if j.cfg.SkipLatency {
		return
	}
	if j.slowIdx >= 0 {
		sc, sb := above(c, j.slowIdx), above(b, j.slowIdx)
		j.ev.Canary.Slow += sc
		j.ev.Baseline.Slow += sb
		j.slow.observe(&j.logs, share(total(c), total(b)), sc, sb)
		return
	}
	// The threshold is fixed from windows before the ones it judges, so the test stays valid.
	if total(j.baseH) >= j.cfg.LatencyBurnIn && total(j.baseH) > 0 {
		j.slowIdx = slowBound(j.baseH, 1-j.cfg.LatencyQuantile)
	}
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

// latencyWeight is the prior weight of the latency test in the combined e-value. Most of the
// weight goes to the error test: errors are scarce (a tenfold regression at a 5% share shows
// about one canary error every 20 s), while every request has a latency, so the latency test
// gathers evidence fast even with a small share of alpha.
func (j *Judge) latencyWeight() float64 {
	switch {
	case j.cfg.SkipLatency:
		return 0
	case j.cfg.SkipErrors:
		return 1
	}
	return latencyWeight
}

// latencyWeight is the latency test's share of alpha when both tests run.
const latencyWeight = 0.1

// check returns a fail verdict when a rule fails now.
func (j *Judge) check() (Verdict, bool) {
	w := j.latencyWeight()
	le, ls := j.errs.logE(), j.slow.logE()
	if (!j.cfg.SkipErrors || !j.cfg.SkipLatency) && combine(1-w, le, ls) >= j.logThreshold() {
		ev := j.evidence()
		if math.Log(1-w)+le >= math.Log(w)+ls {
			return Verdict{Fail, RuleErrorRatio, errorReason(ev), ev}, true
		}
		return Verdict{Fail, RuleLatency, latencyReason(ev), ev}, true
	}
	c := j.ev.Canary
	if m := j.cfg.MaxErrorRate; m != nil && c.Requests >= j.cfg.MinRequests && c.Requests > 0 &&
		float64(c.Errors) > *m*float64(c.Requests) {
		ev := j.evidence()
		return Verdict{Fail, RuleMaxErrorRate, fmt.Sprintf("canary error rate %s (%d of %d requests) is above max_error_rate %s",
			pct(ev.Canary.ErrorRate), c.Errors, c.Requests, pct(*m)), ev}, true
	}
	if n := total(j.canaryH); j.cfg.MaxP99 > 0 && n >= j.cfg.MinRequests && n > 0 && j.histOK(j.canaryH) {
		if p99 := quantile(j.cfg.LatencyBounds, j.canaryH, 0.99); p99 > j.cfg.MaxP99 {
			ev := j.evidence()
			return Verdict{Fail, RuleMaxP99, fmt.Sprintf("canary p99 latency %v over %d requests is above max_p99 %v",
				p99, n, j.cfg.MaxP99), ev}, true
		}
	}
	return Verdict{}, false
}
