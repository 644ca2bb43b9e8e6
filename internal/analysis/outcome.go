package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Verdict returns the judgement so far: fail as soon as a rule fails (and from then on), pass
// once the canary has served TargetRequests without failing (and the latency test, when it has
// data, is past its burn-in), inconclusive otherwise.
func (j *Judge) Verdict() Verdict {
	if j.failed != nil {
		return *j.failed
	}
	ev := j.evidence()
	if t := j.cfg.TargetRequests; t > 0 && ev.Canary.Requests >= t && !j.latencyPending() {
		if v, ok := j.noBaseline(ev); ok {
			return v
		}
		return Verdict{Pass, RuleTarget, fmt.Sprintf("target of %d canary requests reached without failure: %s", t, summary(ev)), ev}
	}
	return Verdict{Inconclusive, "", "analysing: " + summary(ev), ev}
}

// Final returns the judgement at the end of the analysis (its duration is up): fail if a rule
// failed, pass if the canary served at least MinRequests without failing, inconclusive when
// there was too little traffic or nothing to judge it against.
func (j *Judge) Final() Verdict {
	if j.failed != nil {
		return *j.failed
	}
	ev := j.evidence()
	if ev.Canary.Requests < j.cfg.MinRequests {
		return Verdict{Inconclusive, RuleMinRequests, fmt.Sprintf("not enough canary traffic: %d requests, min_requests is %d",
			ev.Canary.Requests, j.cfg.MinRequests), ev}
	}
	if v, ok := j.noBaseline(ev); ok {
		return v
	}
	return Verdict{Pass, RuleMinRequests, "no regression found: " + summary(ev), ev}
}

// noBaseline returns an inconclusive verdict when the baseline served nothing to compare with
// and no absolute limit judges the canary alone.
func (j *Judge) noBaseline(ev Evidence) (Verdict, bool) {
	if ev.Baseline.Requests > 0 || j.cfg.MaxErrorRate != nil || j.cfg.MaxP99 > 0 {
		return Verdict{}, false
	}
	return Verdict{Inconclusive, RuleNoBaseline, "the baseline served no requests to compare the canary with, and no max_error_rate or max_p99 is set", ev}, true
}

// latencyPending reports whether latency data arrived but the latency test is still in burn-in.
func (j *Judge) latencyPending() bool {
	return !j.cfg.SkipLatency && !j.lat[0].started && total(j.baseH)+total(j.canaryH) > 0
}

// evidence returns the counts with their statistics.
func (j *Judge) evidence() Evidence {
	ev := j.ev
	level := 1 - j.cfg.Alpha
	for _, r := range []*RevisionEvidence{&ev.Canary, &ev.Baseline} {
		if r.Requests > 0 {
			r.ErrorRate = float64(r.Errors) / float64(r.Requests)
		}
	}
	if j.histOK(j.canaryH) {
		ev.Canary.P50 = quantile(j.cfg.LatencyBounds, j.canaryH, 0.5)
		ev.Canary.P99 = quantile(j.cfg.LatencyBounds, j.canaryH, 0.99)
	}
	if j.histOK(j.baseH) {
		ev.Baseline.P50 = quantile(j.cfg.LatencyBounds, j.baseH, 0.5)
		ev.Baseline.P99 = quantile(j.cfg.LatencyBounds, j.baseH, 0.99)
	}
	ev.ErrorRatio = ratioInterval(ev.Canary.Errors, ev.Canary.Requests, ev.Baseline.Errors, ev.Baseline.Requests, level)
	ev.LatencyEValue = 1
	if !j.cfg.SkipLatency && j.lat[0].started {
		ev.LatencyEValue = 0
		for _, t := range j.lat {
			e := eValue(t.m.logE())
			ev.LatencyEValue += e / float64(len(j.lat))
			ev.Latency = append(ev.Latency, QuantileEvidence{Quantile: t.q, BaselineThreshold: t.baseBound,
				CanaryThreshold: t.canBound, CanarySlow: t.slowC, CanaryRequests: t.judgedC,
				BaselineSlow: t.slowB, BaselineRequests: t.judgedB,
				SlowRatio: ratioInterval(t.slowC, t.judgedC, t.slowB, t.judgedB, level), EValue: e})
		}
	}
	if j.cfg.MaxP99 > 0 {
		ev.MaxP99 = &LimitEvidence{Limit: j.cfg.MaxP99, Bound: j.limit.bound, Slow: j.limit.slow,
			Requests: j.limit.reqs, EValue: eValue(j.limit.m.logE())}
	}
	ev.ErrorEValue = eValue(j.errs.logE())
	ev.EValue = 1
	if le, best := combined(j.parts()); best != nil {
		ev.EValue = eValue(le)
	}
	ev.Threshold = 1 / j.cfg.Alpha
	ev.Margin = j.marginEvidence()
	return ev
}

// summary renders the main figures of ev in one line.
func summary(ev Evidence) string {
	s := fmt.Sprintf("canary %d errors in %d requests (%s), baseline %d in %d (%s)",
		ev.Canary.Errors, ev.Canary.Requests, pct(ev.Canary.ErrorRate),
		ev.Baseline.Errors, ev.Baseline.Requests, pct(ev.Baseline.ErrorRate))
	if ev.ErrorRatio != nil {
		s += fmt.Sprintf(", ratio %s", ev.ErrorRatio)
	}
	return s + fmt.Sprintf("; e-value %s, fails at %s", num(ev.EValue), num(ev.Threshold))
}

// errorReason explains a failure of the error test.
func errorReason(ev Evidence) string {
	return "canary errors more often than the baseline: " + summary(ev)
}

// latencyReason explains a failure of the latency test, naming the quantile with the
// stronger evidence first.
func latencyReason(ev Evidence) string {
	qs := slices.Clone(ev.Latency)
	slices.SortStableFunc(qs, func(a, b QuantileEvidence) int { return cmp.Compare(b.EValue, a.EValue) })
	var parts []string
	for _, q := range qs {
		ratio := ""
		if q.SlowRatio != nil {
			ratio = fmt.Sprintf(", ratio %s", q.SlowRatio)
		}
		parts = append(parts, fmt.Sprintf("at p%s %d of %d canary requests took over %v, %d of %d baseline requests over %v%s (e-value %s)",
			strconv.FormatFloat(100*q.Quantile, 'g', 4, 64), q.CanarySlow, q.CanaryRequests, short(q.CanaryThreshold),
			q.BaselineSlow, q.BaselineRequests, short(q.BaselineThreshold), ratio, num(q.EValue)))
	}
	return fmt.Sprintf("canary is slower than the baseline: %s; p50 %v vs %v, p99 %v vs %v; e-value %s, fails at %s",
		strings.Join(parts, "; "), short(ev.Canary.P50), short(ev.Baseline.P50), short(ev.Canary.P99), short(ev.Baseline.P99),
		num(ev.EValue), num(ev.Threshold))
}

// limitReason explains a failure of the max_p99 test.
func limitReason(ev Evidence) string {
	l := ev.MaxP99
	return fmt.Sprintf("canary p99 latency is above max_p99 %v: %d of %d canary requests (%s) took over %v, more than the 1%% a p99 within it allows; p99 %v; e-value %s, fails at %s",
		l.Limit, l.Slow, l.Requests, pct(float64(l.Slow)/float64(max(l.Requests, 1))), short(l.Bound), short(ev.Canary.P99),
		num(ev.EValue), num(ev.Threshold))
}

// short rounds a latency to three or four significant digits for people: 31.72ms, 150.9ms.
func short(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(100 * time.Nanosecond).String()
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'g', 3, 64) + "%" }

func num(f float64) string {
	if math.IsInf(f, 0) {
		return "inf"
	}
	return strconv.FormatFloat(f, 'g', 3, 64)
}
