package spec

import (
	"strings"
	"time"
)

// Defaults and bounds of a route's limits.
const (
	// DefaultMaxBody caps a request body when route.max_body is not given (64 MiB).
	DefaultMaxBody = 64 << 20
	// DefaultQueueTimeout is how long a request over route.max_concurrency waits for a slot.
	DefaultQueueTimeout = Duration(10 * time.Second)
	// MaxConcurrencyLimit bounds route.max_concurrency.
	MaxConcurrencyLimit = 1_000_000
)

// MaxBodyBytes is the route's request body cap in bytes: DefaultMaxBody when max_body is not
// given, 0 (no cap) for "0". It expects a validated Route.
func (r Route) MaxBodyBytes() int64 {
	switch strings.TrimSpace(r.MaxBody) {
	case "":
		return DefaultMaxBody
	case "0":
		return 0
	}
	n, err := ParseBytes(r.MaxBody)
	if err != nil {
		return DefaultMaxBody
	}
	return n
}

// routeLimits fills the queue timeout of a route with a concurrency cap. Other limits take
// their defaults where they are used, so that specs without them keep their hash.
func (df defaulter) routeLimits(r *Route) {
	if r.MaxConcurrency > 0 {
		df.dur(&r.QueueTimeout, "route.queue_timeout", DefaultQueueTimeout)
	}
}

func validateRouteLimits(errs *Errors, r *Route) {
	if b := strings.TrimSpace(r.MaxBody); b != "" && b != "0" {
		if _, err := ParseBytes(b); err != nil {
			errs.add("route.max_body", "want a size such as 1048576, 512k or 10m (0: no cap), not %q", r.MaxBody)
		}
	}
	if r.MaxConcurrency < 0 {
		errs.add("route.max_concurrency", "must not be negative (0: no cap)")
	} else if r.MaxConcurrency > MaxConcurrencyLimit {
		errs.add("route.max_concurrency", "must be at most %d", MaxConcurrencyLimit)
	}
	if r.QueueTimeout < 0 {
		errs.add("route.queue_timeout", "must not be negative (0: refuse at once when max_concurrency is reached)")
	}
	if r.QueueTimeout > 0 && r.MaxConcurrency == 0 {
		errs.add("route.queue_timeout", "needs route.max_concurrency: without a cap no request waits")
	}
	validateRouteTLS(errs, r)
}
