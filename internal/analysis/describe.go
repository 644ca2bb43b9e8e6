package analysis

import (
	"fmt"
	"strings"
)

// Describe renders a verdict for people, in one paragraph: its outcome, what was compared
// (Evidence.Compared, or "canary with baseline") over how many requests and on which
// endpoint, the rule that decided and what that rule is, then the verdict's own reason with
// its figures (counts, rates, interval, e-value and the threshold it is held to). The CLI and
// the API (api.Verdict.Summary) print it; dashboards and notifications should too, so that a
// verdict reads the same everywhere.
func Describe(v Verdict) string {
	ev := v.Evidence
	var b strings.Builder
	b.WriteString(string(v.Outcome))
	what := ev.Compared
	if what == "" {
		what = "canary with baseline"
	}
	fmt.Fprintf(&b, ": %s over %d canary and %d baseline requests", what, ev.Canary.Requests, ev.Baseline.Requests)
	if ev.Endpoint != "" {
		fmt.Fprintf(&b, " (%s)", stratumLabel(ev.Endpoint))
	}
	if ev.Resumes > 0 {
		fmt.Fprintf(&b, ", judged across %d daemon %s", ev.Resumes, plural(ev.Resumes, "restart", "restarts"))
	}
	if v.Rule != "" {
		fmt.Fprintf(&b, "; rule %s: %s", v.Rule, ruleMeaning(v.Rule, ev))
	}
	if v.Reason != "" {
		b.WriteString("; " + v.Reason)
	}
	return b.String()
}

// ruleMeaning says what a rule is, with the bound it holds the canary to.
func ruleMeaning(r Rule, ev Evidence) string {
	alpha := ""
	if ev.Threshold > 0 {
		alpha = fmt.Sprintf(" (false-rollback bound %s, fails at e-value %s)", num(1/ev.Threshold), num(ev.Threshold))
	}
	switch r {
	case RuleErrorRatio:
		return "anytime-valid sequential test that the canary errors no more often than the baseline" + alpha
	case RuleLatency:
		return "anytime-valid sequential test that the canary is no slower than the baseline at p50 and the tail quantile, within latency_tolerance" + alpha
	case RuleMaxP99:
		return "anytime-valid sequential test that at most 1% of canary requests exceed max_p99" + alpha
	case RuleMaxErrorRate:
		return "fixed threshold on the canary's error rate (not covered by alpha)"
	case RuleTarget:
		return "target_requests served with no sequential test failing"
	case RuleMinRequests:
		return "at the end of the analysis, with at least min_requests canary requests: pass when no test failed"
	case RuleNoBaseline:
		return "nothing to compare with"
	}
	if name, ok := strings.CutPrefix(string(r), "prometheus:"); ok {
		return "prometheus check " + name + " (a threshold on a query, not covered by alpha, or the state of its counts)"
	}
	return string(r)
}
