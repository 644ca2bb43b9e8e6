package analysis

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Condition is a Prometheus check's condition: result Op Threshold. Op is one of
// < <= > >= == !=.
type Condition struct {
	Op        string
	Threshold float64
}

// Holds reports whether v satisfies the condition; false for NaN and for an unknown Op.
func (c Condition) Holds(v float64) bool {
	switch c.Op {
	case "<":
		return v < c.Threshold
	case "<=":
		return v <= c.Threshold
	case ">":
		return v > c.Threshold
	case ">=":
		return v >= c.Threshold
	case "==":
		return v == c.Threshold
	case "!=":
		return !math.IsNaN(v) && v != c.Threshold
	}
	return false
}

// String renders "result < 0.01".
func (c Condition) String() string {
	return "result " + c.Op + " " + strconv.FormatFloat(c.Threshold, 'g', -1, 64)
}

func (c Condition) valid() bool {
	switch c.Op {
	case "<", "<=", ">", ">=", "==", "!=":
		return !math.IsNaN(c.Threshold)
	}
	return false
}

// CheckResult is the judgement of one run of a Prometheus check.
type CheckResult struct {
	Outcome Outcome
	// Value is the query's answer; NaN when there was none.
	Value float64
	// Reason says why, for people.
	Reason string
}

// EvaluateCheck judges one answer to a check's query: inconclusive when the query gave an
// error (err's text is the reason) or NaN, pass when the condition holds, fail otherwise.
// It never passes without a number that satisfies the condition.
func EvaluateCheck(cond Condition, value float64, err error) CheckResult {
	switch {
	case errors.Is(err, ErrNoData):
		return CheckResult{Inconclusive, math.NaN(), "no data: " + err.Error()}
	case err != nil:
		return CheckResult{Inconclusive, math.NaN(), err.Error()}
	case math.IsNaN(value):
		return CheckResult{Inconclusive, value, "query returned NaN (often 0/0: no traffic yet)"}
	case !cond.valid():
		return CheckResult{Inconclusive, value, fmt.Sprintf("invalid condition %q", cond)}
	case cond.Holds(value):
		return CheckResult{Pass, value, fmt.Sprintf("result %s satisfies %s", formatValue(value), cond)}
	}
	return CheckResult{Fail, value, fmt.Sprintf("result %s does not satisfy %s", formatValue(value), cond)}
}

// formatValue writes a sample value as Prometheus does ("0.01", "+Inf", "NaN").
func formatValue(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// CheckConfig configures a Check.
type CheckConfig struct {
	Name      string
	Condition Condition
	// FailureLimit is how many failed runs in a row are tolerated: the check fails at the
	// (FailureLimit+1)th.
	FailureLimit int
	// InconclusiveLimit is how many inconclusive runs in a row may follow a conclusive one
	// and leave its result standing.
	InconclusiveLimit int
}

// Check follows one Prometheus check through an analysis and gives its standing:
//
//   - a pass resets both streaks; the standing is pass;
//   - a fail extends the streak of fails; at FailureLimit+1 fails in a row the check fails
//     for good (like the judge, a failed check never recovers); below that the standing is
//     inconclusive ("failed k of FailureLimit+1");
//   - an inconclusive run (error, no data, NaN) neither breaks nor extends the fail streak.
//     Up to InconclusiveLimit of them in a row leave the last conclusive standing as it was
//     (with the reason saying so); one more, or any before the first conclusive run, makes
//     the standing inconclusive with the latest reason.
//
// A Check is not safe for concurrent use.
type Check struct {
	cfg          CheckConfig
	runs         int
	fails        int // conclusive fails in a row
	inconclusive int // inconclusive runs in a row
	conclusive   *CheckResult
	last         CheckResult
	query        string
	at           time.Time
	failed       *CheckEvidence
}

// NewCheck returns a Check, or a *FieldError for a bad configuration.
func NewCheck(cfg CheckConfig) (*Check, error) {
	switch {
	case cfg.Name == "":
		return nil, &FieldError{Field: "prometheus.name", Message: "required"}
	case !cfg.Condition.valid():
		return nil, &FieldError{Field: "prometheus.condition", Message: fmt.Sprintf("invalid condition %q", cfg.Condition)}
	case cfg.FailureLimit < 0 || cfg.InconclusiveLimit < 0:
		return nil, &FieldError{Field: "prometheus.failure_limit", Message: "limits must not be negative"}
	}
	return &Check{cfg: cfg}, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.cfg.Name }

// Condition returns the check's condition.
func (c *Check) Condition() Condition { return c.cfg.Condition }

// Failed reports whether the check has failed for good.
func (c *Check) Failed() bool { return c.failed != nil }

// Record folds in the result r of the run of query (as sent) at at. Once the check has
// failed, results are ignored.
func (c *Check) Record(at time.Time, query string, r CheckResult) {
	if c.failed != nil {
		return
	}
	c.runs++
	c.last, c.query, c.at = r, query, at
	switch r.Outcome {
	case Pass:
		c.fails, c.inconclusive = 0, 0
		c.conclusive = &r
	case Fail:
		c.fails++
		c.inconclusive = 0
		c.conclusive = &r
		if c.fails > c.cfg.FailureLimit {
			ev := c.Evidence()
			c.failed = &ev
		}
	default:
		c.inconclusive++
	}
}

// CheckEvidence is a Prometheus check's standing in a verdict, with its latest run.
type CheckEvidence struct {
	Name      string `json:"name"`
	Condition string `json:"condition"`
	// Outcome and Reason are the check's standing (see Check).
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason"`
	// Query is the latest query as sent (placeholders filled in); Last its result, and Value
	// its number as Prometheus writes it ("0.01", "NaN", "+Inf"), empty when it gave none.
	Query string    `json:"query,omitempty"`
	Last  Outcome   `json:"last,omitempty"`
	Value string    `json:"value,omitempty"`
	At    time.Time `json:"at,omitzero"`
	// Runs counts the runs; ConsecutiveFails and ConsecutiveInconclusive are the streaks.
	Runs                    int `json:"runs"`
	ConsecutiveFails        int `json:"consecutive_fails"`
	ConsecutiveInconclusive int `json:"consecutive_inconclusive"`
}

// Evidence returns the check's standing.
func (c *Check) Evidence() CheckEvidence {
	if c.failed != nil {
		return *c.failed
	}
	ev := CheckEvidence{Name: c.cfg.Name, Condition: c.cfg.Condition.String(), Query: c.query, Last: c.last.Outcome,
		At: c.at, Runs: c.runs, ConsecutiveFails: c.fails, ConsecutiveInconclusive: c.inconclusive}
	if c.runs > 0 && !math.IsNaN(c.last.Value) {
		ev.Value = formatValue(c.last.Value)
	}
	ev.Outcome, ev.Reason = c.standing()
	return ev
}

// standing applies the limits of Check's documentation.
func (c *Check) standing() (Outcome, string) {
	lim := c.cfg
	q := fmt.Sprintf(" (query: %s)", c.query)
	switch {
	case c.runs == 0:
		return Inconclusive, "waiting for the first check"
	case c.conclusive == nil:
		return Inconclusive, c.last.Reason + q
	case c.inconclusive > lim.InconclusiveLimit:
		return Inconclusive, fmt.Sprintf("%d inconclusive checks in a row exceed inconclusive_limit %d: %s%s",
			c.inconclusive, lim.InconclusiveLimit, c.last.Reason, q)
	}
	reason := c.conclusive.Reason
	if c.fails > lim.FailureLimit {
		return Fail, fmt.Sprintf("%s%s: %d failed checks in a row, failure_limit %d", reason, q, c.fails, lim.FailureLimit)
	}
	if c.inconclusive > 0 {
		reason += fmt.Sprintf(" before %d inconclusive checks (inconclusive_limit %d; latest: %s)",
			c.inconclusive, lim.InconclusiveLimit, c.last.Reason)
	}
	if c.conclusive.Outcome == Fail {
		return Inconclusive, fmt.Sprintf("%s%s: failed check %d of %d allowed by failure_limit %d",
			reason, q, c.fails, lim.FailureLimit+1, lim.FailureLimit)
	}
	return Pass, reason
}

// RulePrometheus returns the rule of a verdict decided by the Prometheus check name.
func RulePrometheus(name string) Rule { return Rule("prometheus:" + name) }

// Combine merges the judge's verdict v with the standings of the Prometheus checks, which it
// puts in the evidence:
//
//   - the judge's fail stands (the checks are only added to its evidence);
//   - otherwise the first failed check fails the canary, with its rule and reason;
//   - otherwise a pass needs the judge's pass and every check's pass;
//   - otherwise the verdict is inconclusive: the judge's rule when it is inconclusive, the
//     first pending check's when the judge passed, and the reasons of every pending check.
func Combine(v Verdict, checks []CheckEvidence) Verdict {
	if len(checks) == 0 {
		return v
	}
	v.Evidence.Prometheus = checks
	if v.Outcome == Fail {
		return v
	}
	for _, c := range checks {
		if c.Outcome == Fail {
			return Verdict{Fail, RulePrometheus(c.Name), "prometheus check " + c.Name + ": " + c.Reason, v.Evidence}
		}
	}
	var pending []string
	first := ""
	for _, c := range checks {
		if c.Outcome != Pass {
			pending = append(pending, "prometheus check "+c.Name+": "+c.Reason)
			if first == "" {
				first = c.Name
			}
		}
	}
	if len(pending) == 0 {
		v.Reason += fmt.Sprintf("; %d prometheus checks pass", len(checks))
		return v
	}
	if v.Outcome == Pass {
		v.Outcome, v.Rule = Inconclusive, RulePrometheus(first)
	}
	v.Reason += "; " + strings.Join(pending, "; ")
	return v
}
