package rollout

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/spec"
)

// counted reports whether the check is a source of counts (requests and errors queries).
func (pc *promCheck) counted() bool { return pc.spec.Requests != "" }

// readCounts asks the check's Prometheus for the canary's and stable's cumulative request and
// error counts and keeps them for the judge. The run is a pass when all four answered and the
// counts moved since the last read, inconclusive with the reason otherwise (an unreachable
// server, no data, a stale source): never a verdict on the canary by itself, which is the
// judge's, on the counts.
func (pc *promCheck) readCounts(ctx context.Context, vars spec.QueryVars, now time.Time) (string, analysis.CheckResult) {
	read := func(rev int) (analysis.Counts, string, error) {
		v := vars
		v.Revision = rev
		q := spec.ExpandQuery(pc.spec.Requests, v)
		req, err := pc.source.Query(ctx, q)
		if err != nil {
			return analysis.Counts{}, q, fmt.Errorf("requests of revision %d: %w", rev, err)
		}
		qe := spec.ExpandQuery(pc.spec.Errors, v)
		errs, err := pc.source.Query(ctx, qe)
		if err != nil {
			return analysis.Counts{}, qe, fmt.Errorf("errors of revision %d: %w", rev, err)
		}
		if !(req >= 0 && errs >= 0) || math.IsInf(req, 0) || math.IsInf(errs, 0) {
			return analysis.Counts{}, q, fmt.Errorf("revision %d: counts %v requests, %v errors are not counts", rev, req, errs)
		}
		return analysis.Counts{Requests: int64(req), Errors: int64(errs)}, q, nil
	}
	c, q, err := read(vars.Canary)
	if err != nil {
		return q, analysis.CheckResult{Outcome: analysis.Inconclusive, Value: math.NaN(), Reason: err.Error()}
	}
	s, q2, err := read(vars.Stable)
	if err != nil {
		return q2, analysis.CheckResult{Outcome: analysis.Inconclusive, Value: math.NaN(), Reason: err.Error()}
	}
	moved := c.Requests != pc.canary.Requests || s.Requests != pc.stable.Requests || pc.readAt.IsZero()
	pc.canary, pc.stable = c, s
	why := fmt.Sprintf("counts: canary %d errors in %d requests, stable %d in %d", c.Errors, c.Requests, s.Errors, s.Requests)
	if !moved {
		return q, analysis.CheckResult{Outcome: analysis.Inconclusive, Value: float64(c.Requests),
			Reason: fmt.Sprintf("stale: no new requests counted since %s (%s)", pc.readAt.UTC().Format(time.RFC3339), why)}
	}
	pc.readAt = now
	return q, analysis.CheckResult{Outcome: analysis.Pass, Value: float64(c.Requests), Reason: why}
}

// addCounted puts the counted checks' last counts into the revisions' counters, under
// analysis.CountedPrefix + the check's name, for the judge's strata.
func addCounted(counts map[int]analysis.Counts, checks []*promCheck, canary, stable int) {
	put := func(rev int, name string, c analysis.Counts) {
		rc := counts[rev]
		if rc.Endpoints == nil {
			rc.Endpoints = map[string]analysis.Counts{}
		}
		rc.Endpoints[analysis.CountedPrefix+name] = c
		counts[rev] = rc
	}
	for _, pc := range checks {
		if pc.counted() && !pc.readAt.IsZero() {
			put(canary, pc.spec.Name, pc.canary)
			put(stable, pc.spec.Name, pc.stable)
		}
	}
}
