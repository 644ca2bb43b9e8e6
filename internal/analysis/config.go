package analysis

import (
	"errors"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/latency"
)

// DefaultAlpha is the false-rollback probability per analysis when Config.Alpha is zero.
const DefaultAlpha = 0.05

// Defaults used for zero fields of Config.
const (
	DefaultMinRequests      = 100
	DefaultLatencyQuantile  = 0.95
	DefaultLatencyBurnIn    = 50
	DefaultLatencyTolerance = 0.05
)

// DefaultLatencyBounds are the bucket upper bounds of the proxy's latency histograms: package
// latency's log-linear layout, 1.6% apart from 8 µs to 137 s; a histogram has one more
// bucket, for larger latencies.
var DefaultLatencyBounds = latency.Bounds()

// Config tunes a Judge. The zero value is usable: zero fields take the defaults above.
type Config struct {
	// Alpha bounds the probability that the sequential tests fail a canary that is no worse
	// than its baseline, over the whole analysis however often it is judged. In (0, 0.5].
	Alpha float64
	// MinRequests is the number of canary requests before the absolute limits apply and before
	// Final can pass.
	MinRequests int64
	// TargetRequests, when positive, lets Verdict pass as soon as the canary has served this
	// many requests without a failure; zero means pass only through Final.
	TargetRequests int64
	// MaxErrorRate, when set, fails a canary whose error rate since the start exceeds it. In [0, 1].
	MaxErrorRate *float64
	// MaxP99, when positive, fails a canary once a sequential test shows that more than 1% of
	// its requests take longer than MaxP99 (its p99 is above it); alpha covers this test too.
	MaxP99 time.Duration
	// SkipLatency turns the sequential latency test off (the absolute MaxP99 still applies).
	SkipLatency bool
	// SkipErrors turns the sequential error-count test off (MaxErrorRate still applies); the
	// latency test then gets all of alpha.
	SkipErrors bool
	// LatencyQuantile is the tail quantile the latency test compares, next to the median. In
	// (0, 1).
	LatencyQuantile float64
	// LatencyBurnIn is the number of baseline latency samples before the latency test starts.
	LatencyBurnIn int64
	// LatencyTolerance is how much slower than the baseline the canary may be and still count
	// as no worse: 0.05 compares the canary's latencies divided by 1.05. In [0, 10]; nil
	// means DefaultLatencyTolerance.
	LatencyTolerance *float64
	// LatencyBounds are the histogram bucket upper bounds, strictly increasing and positive.
	LatencyBounds []time.Duration
	// mergeOneSided folds a window in which one revision served nothing into the next one
	// rather than judging it alone (where it would say nothing). Strata sets it for the
	// endpoints, whose few requests a second leave most windows one-sided; the choice depends
	// on request counts only, which the tests condition on, so they stay valid.
	mergeOneSided bool
}

// FieldError is one invalid field of a Config; Field is spelled as in a spec file ("alpha").
type FieldError struct {
	Field   string
	Message string
}

// Error renders "analysis: field: message".
func (e *FieldError) Error() string { return "analysis: " + e.Field + ": " + e.Message }

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Alpha == 0 {
		c.Alpha = DefaultAlpha
	}
	if c.MinRequests == 0 {
		c.MinRequests = DefaultMinRequests
	}
	if c.LatencyQuantile == 0 {
		c.LatencyQuantile = DefaultLatencyQuantile
	}
	if c.LatencyBurnIn == 0 {
		c.LatencyBurnIn = DefaultLatencyBurnIn
	}
	if c.LatencyBounds == nil {
		c.LatencyBounds = DefaultLatencyBounds
	}
	if c.LatencyTolerance == nil {
		t := DefaultLatencyTolerance
		c.LatencyTolerance = &t
	}
	return c
}

// Validate reports every invalid field of c (after defaults) as *FieldError values joined
// with errors.Join; nil when c is valid.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !(c.Alpha > 0 && c.Alpha <= 0.5) {
		bad("alpha", "must be in (0, 0.5], got %v", c.Alpha)
	}
	if c.MinRequests < 0 {
		bad("min_requests", "must not be negative, got %d", c.MinRequests)
	}
	if c.TargetRequests < 0 {
		bad("target_requests", "must not be negative, got %d", c.TargetRequests)
	}
	if r := c.MaxErrorRate; r != nil && !(*r >= 0 && *r <= 1) {
		bad("max_error_rate", "must be in [0, 1], got %v", *r)
	}
	if c.MaxP99 < 0 {
		bad("max_p99", "must be positive, got %v", c.MaxP99)
	}
	if !(c.LatencyQuantile > 0 && c.LatencyQuantile < 1) {
		bad("latency_quantile", "must be in (0, 1), got %v", c.LatencyQuantile)
	}
	if t := *c.LatencyTolerance; !(t >= 0 && t <= 10) {
		bad("latency_tolerance", "must be in [0, 10], got %v", t)
	}
	if c.LatencyBurnIn < 0 {
		bad("latency_burn_in", "must not be negative, got %d", c.LatencyBurnIn)
	}
	if len(c.LatencyBounds) == 0 {
		bad("latency_bounds", "must not be empty")
	}
	for i, b := range c.LatencyBounds {
		if b <= 0 || (i > 0 && b <= c.LatencyBounds[i-1]) {
			bad("latency_bounds", "must be positive and strictly increasing, got %v at index %d", b, i)
			break
		}
	}
	return errors.Join(errs...)
}
