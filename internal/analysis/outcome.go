package analysis

import (
	"fmt"
	"math"
	"strconv"
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
	return !j.cfg.SkipLatency && j.slowIdx < 0 && total(j.baseH)+total(j.canaryH) > 0
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
		ev.Canary.P99 = quantile(j.cfg.LatencyBounds, j.canaryH, 0.99)
	}
	if j.histOK(j.baseH) {
		ev.Baseline.P99 = quantile(j.cfg.LatencyBounds, j.baseH, 0.99)
	}
	ev.ErrorRatio = ratioInterval(ev.Canary.Errors, ev.Canary.Requests, ev.Baseline.Errors, ev.Baseline.Requests, level)
	if j.slowIdx >= 0 {
		ev.SlowThreshold = j.cfg.LatencyBounds[j.slowIdx]
		ev.SlowRatio = ratioInterval(ev.Canary.Slow, total(j.canaryH), ev.Baseline.Slow, total(j.baseH), level)
	}
	w := j.latencyWeight()
	le, ls := j.errs.logE(), j.slow.logE()
	ev.ErrorEValue, ev.LatencyEValue = eValue(le), eValue(ls)
	ev.EValue = eValue(combine(1-w, le, ls))
	ev.Threshold = 1 / j.cfg.Alpha
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

// latencyReason explains a failure of the latency test.
func latencyReason(ev Evidence) string {
	ratio := ""
	if ev.SlowRatio != nil {
		ratio = fmt.Sprintf(", ratio %s", ev.SlowRatio)
	}
	return fmt.Sprintf("canary is slower than the baseline: %d canary and %d baseline requests took over %v%s (p99 %v vs %v); e-value %s, fails at %s",
		ev.Canary.Slow, ev.Baseline.Slow, ev.SlowThreshold, ratio, ev.Canary.P99, ev.Baseline.P99,
		num(ev.LatencyEValue), num(ev.Threshold))
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'g', 3, 64) + "%" }

func num(f float64) string {
	if math.IsInf(f, 0) {
		return "inf"
	}
	return strconv.FormatFloat(f, 'g', 3, 64)
}
