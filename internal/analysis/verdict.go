package analysis

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Outcome is a verdict's result.
type Outcome string

// Outcomes. Inconclusive means: keep watching, or, at the end, not enough evidence either way.
const (
	Pass         Outcome = "pass"
	Fail         Outcome = "fail"
	Inconclusive Outcome = "inconclusive"
)

// Rule names what decided a verdict.
type Rule string

// Rules.
const (
	RuleErrorRatio   Rule = "error_ratio"    // sequential test of canary vs baseline error counts
	RuleLatency      Rule = "latency"        // sequential test of canary vs baseline slow requests
	RuleMaxErrorRate Rule = "max_error_rate" // absolute limit on the canary's error rate
	RuleMaxP99       Rule = "max_p99"        // absolute limit on the canary's p99 latency
	RuleTarget       Rule = "target_requests"
	RuleMinRequests  Rule = "min_requests"
	RuleNoBaseline   Rule = "no_baseline" // nothing to compare with and no absolute limit
)

// Verdict is the judgement of a canary at one moment, with the evidence behind it. Rule is
// empty for an inconclusive verdict that is still waiting for data.
type Verdict struct {
	Outcome  Outcome  `json:"outcome"`
	Rule     Rule     `json:"rule,omitempty"`
	Reason   string   `json:"reason"`
	Evidence Evidence `json:"evidence"`
}

// Evidence is what the judge has seen since the analysis began.
type Evidence struct {
	// Compared says what the canary was compared with, for people: "canary revision 2 with
	// stable revision 1" (set by the controller; empty: canary with baseline).
	Compared string `json:"compared,omitempty"`
	// Windows counts the samples that contributed counts; Resets the samples whose counters
	// went backwards (a restarted proxy) and only served as a new starting point.
	Windows int `json:"windows"`
	Resets  int `json:"resets"`
	// Resumes counts the times the judge was resumed from its stored state (a daemon restart
	// or hand-off): the counts include what it saw before each.
	Resumes  int              `json:"resumes,omitempty"`
	Canary   RevisionEvidence `json:"canary"`
	Baseline RevisionEvidence `json:"baseline"`
	// ErrorRatio is the canary's error rate over the baseline's, nil while there are no errors.
	ErrorRatio *Interval `json:"error_ratio,omitempty"`
	// ErrorEValue is the error test's e-value: large values are evidence against "canary no worse".
	ErrorEValue float64 `json:"error_e_value"`
	// Latency holds the latency tests: the median's, then the tail quantile's; empty before
	// the burn-in ends or when the test is off. LatencyEValue is the average of their e-values.
	Latency       []QuantileEvidence `json:"latency,omitempty"`
	LatencyEValue float64            `json:"latency_e_value"`
	// MaxP99 is the evidence of the max_p99 test, when max_p99 is set.
	MaxP99 *LimitEvidence `json:"max_p99,omitempty"`
	// EValue is the weighted average of the sequential tests' e-values (errors 0.9, each
	// latency test 0.05, max_p99 0.05, scaled over the tests that are on); the canary fails
	// when it reaches Threshold = 1/alpha.
	EValue    float64 `json:"e_value"`
	Threshold float64 `json:"threshold"`
	// Endpoint names the route's endpoint whose own tests failed the canary (see Strata); the
	// counts and statistics above are then that endpoint's. Empty otherwise.
	Endpoint string `json:"endpoint,omitempty"`
	// Endpoints summarise each endpoint's own tests, when the route names endpoints.
	Endpoints []EndpointEvidence `json:"endpoints,omitempty"`
	// Margin is the evidence of an evidence-paced ramp's margin tests at the current share,
	// when a ramp runs them (Judge.StartMargin).
	Margin *MarginEvidence `json:"margin,omitempty"`
	// Prometheus holds the standing of each Prometheus check, in the spec's order (see Combine).
	Prometheus []CheckEvidence `json:"prometheus,omitempty"`
}

// EndpointEvidence is what one endpoint's tests have seen: its requests and errors per
// revision, its combined e-value and the threshold at which it fails the canary (1 over its
// share of alpha).
type EndpointEvidence struct {
	Name      string           `json:"name"`
	Canary    RevisionEvidence `json:"canary"`
	Baseline  RevisionEvidence `json:"baseline"`
	EValue    float64          `json:"e_value"`
	Threshold float64          `json:"threshold"`
}

// RevisionEvidence is one revision's counts since the analysis began.
type RevisionEvidence struct {
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	// P50 and P99 are read from the latency histogram (to within its 1.6% buckets,
	// interpolated inside the bucket); zero without latency data.
	P50 time.Duration `json:"p50"`
	P99 time.Duration `json:"p99"`
}

// QuantileEvidence is what one latency test has seen since it started: how many requests of
// each revision were slower than its threshold. Before each window the threshold is the
// baseline's quantile Quantile read from the windows before; BaselineThreshold is the last
// one, CanaryThreshold the same times 1+latency_tolerance, rounded up to a bucket bound.
type QuantileEvidence struct {
	Quantile          float64       `json:"quantile"`
	BaselineThreshold time.Duration `json:"baseline_threshold"`
	CanaryThreshold   time.Duration `json:"canary_threshold"`
	CanarySlow        int64         `json:"canary_slow"`
	CanaryRequests    int64         `json:"canary_requests"`
	BaselineSlow      int64         `json:"baseline_slow"`
	BaselineRequests  int64         `json:"baseline_requests"`
	// SlowRatio compares the canary's fraction of slow requests with the baseline's.
	SlowRatio *Interval `json:"slow_ratio,omitempty"`
	EValue    float64   `json:"e_value"`
}

// LimitEvidence is what the max_p99 test has seen: Slow of the canary's Requests took longer
// than Limit (counted above Bound, the first histogram bound at or above it); under "p99 is
// within max_p99" at most 1% do.
type LimitEvidence struct {
	Limit    time.Duration `json:"limit"`
	Bound    time.Duration `json:"bound"`
	Slow     int64         `json:"slow"`
	Requests int64         `json:"requests"`
	EValue   float64       `json:"e_value"`
}

// Interval is an estimated ratio with its confidence bounds at level Level. High is +Inf when
// the data put no upper bound (no baseline events), and Estimate is +Inf when the baseline has
// no events but the canary has; JSON encodes infinities as null.
type Interval struct {
	Estimate float64 `json:"estimate"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
	Level    float64 `json:"level"`
}

// MarshalJSON writes infinite fields as null, which encoding/json cannot do by itself.
func (iv Interval) MarshalJSON() ([]byte, error) {
	num := func(f float64) json.RawMessage {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return json.RawMessage("null")
		}
		return json.RawMessage(strconv.FormatFloat(f, 'g', -1, 64))
	}
	return json.Marshal(struct {
		Estimate json.RawMessage `json:"estimate"`
		Low      json.RawMessage `json:"low"`
		High     json.RawMessage `json:"high"`
		Level    json.RawMessage `json:"level"`
	}{num(iv.Estimate), num(iv.Low), num(iv.High), num(iv.Level)})
}

// UnmarshalJSON reads what MarshalJSON writes, null as +Inf.
func (iv *Interval) UnmarshalJSON(b []byte) error {
	var raw struct{ Estimate, Low, High, Level *float64 }
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("decode interval: %w", err)
	}
	val := func(f *float64) float64 {
		if f == nil {
			return math.Inf(1)
		}
		return *f
	}
	*iv = Interval{Estimate: val(raw.Estimate), Low: val(raw.Low), High: val(raw.High), Level: val(raw.Level)}
	return nil
}

// String renders "10.2 (95% interval 4.1 to 25.3)", with "inf" for unbounded values.
func (iv Interval) String() string {
	f := func(x float64) string {
		if math.IsInf(x, 1) {
			return "inf"
		}
		return strconv.FormatFloat(x, 'g', 3, 64)
	}
	return f(iv.Estimate) + " (" + strconv.FormatFloat(100*iv.Level, 'g', 3, 64) + "% interval " + f(iv.Low) + " to " + f(iv.High) + ")"
}

// ratioInterval estimates rho = (ec/nc)/(eb/nb) with a conventional interval at level: the
// Wilson interval of the canary's share of events pi, mapped through rho = pi/(1-pi) * nb/nc.
// It returns nil when there are no events or no requests on either side.
func ratioInterval(ec, nc, eb, nb int64, level float64) *Interval {
	e := ec + eb
	if e == 0 || nc == 0 || nb == 0 {
		return nil
	}
	z := math.Sqrt2 * math.Erfinv(level)
	n := float64(e)
	pi := float64(ec) / n
	mid := (pi + z*z/(2*n)) / (1 + z*z/n)
	half := z / (1 + z*z/n) * math.Sqrt(pi*(1-pi)/n+z*z/(4*n*n))
	scale := float64(nb) / float64(nc)
	toRho := func(p float64) float64 {
		if p >= 1 {
			return math.Inf(1)
		}
		return max(p, 0) / (1 - p) * scale
	}
	lo, hi := mid-half, mid+half
	if ec == 0 {
		lo = 0
	}
	if eb == 0 {
		hi = 1
	}
	return &Interval{Estimate: toRho(pi), Low: toRho(lo), High: toRho(hi), Level: level}
}
