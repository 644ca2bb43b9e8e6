// Package health owns instance health: it runs startup, readiness and liveness probes
// (HTTP, TCP, exec) with Kubernetes semantics against one instance and reports whether the
// instance has started, is ready for traffic and is still live. It decides nothing about
// routing or restarts: its owner acts on the reported Result (a not-live instance is
// restarted by the owner, who then calls Reset).
package health

import (
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// Kubernetes' defaults, used where a probe leaves a parameter at zero.
const (
	DefaultPeriod           = 10 * time.Second
	DefaultTimeout          = 1 * time.Second
	DefaultSuccessThreshold = 1
	DefaultFailureThreshold = 3
)

// Kind is which of the three probes an observation belongs to.
type Kind int

// Probe kinds.
const (
	Startup Kind = iota
	Readiness
	Liveness
)

// String returns "startup", "readiness" or "liveness".
func (k Kind) String() string {
	switch k {
	case Startup:
		return "startup"
	case Readiness:
		return "readiness"
	case Liveness:
		return "liveness"
	}
	return "unknown"
}

// Result is the health of one instance as the probes see it.
type Result struct {
	// Started is true once the startup probe succeeded (at once when there is none).
	Started bool
	// Ready is true while the instance may receive traffic.
	Ready bool
	// Live is false once startup or liveness failed for good: the owner must restart the
	// instance and Reset the tracker or prober.
	Live bool
	// ReadySince is when Ready last became true; zero while not ready.
	ReadySince time.Time
	// Message says why the instance is not ready or not live, e.g.
	// "readiness: GET /healthz: status 503"; empty when healthy.
	Message string
}

// equal reports whether a and b describe the same health.
func (r Result) equal(o Result) bool {
	return r.Started == o.Started && r.Ready == o.Ready && r.Live == o.Live &&
		r.ReadySince.Equal(o.ReadySince) && r.Message == o.Message
}

// Target is where and how to probe one instance.
type Target struct {
	// Addr is the instance's host:port for HTTP and TCP probes.
	Addr string
	// Env is the environment of exec probes (the instance's env, PORT included).
	Env map[string]string
	// Dir is the working directory of exec probes; empty means the daemon's.
	Dir string
	// Redact, when set, hides secret values in what a probe attempt reports (an exec
	// probe's output, a URL) before it becomes a Result's Message or a log line.
	Redact func(string) string
}

// redactedError is a probe failure whose text has had the target's secrets hidden. It
// keeps the original for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with t's secrets hidden in its text; nil stays nil.
func (t Target) redact(err error) error {
	if err == nil || t.Redact == nil {
		return err
	}
	return &redactedError{msg: t.Redact(err.Error()), err: err}
}

// withDefaults returns p with Kubernetes' defaults in place of zero parameters.
func withDefaults(p spec.Probe) spec.Probe {
	if p.Period <= 0 {
		p.Period = spec.Duration(DefaultPeriod)
	}
	if p.Timeout <= 0 {
		p.Timeout = spec.Duration(DefaultTimeout)
	}
	if p.SuccessThreshold <= 0 {
		p.SuccessThreshold = DefaultSuccessThreshold
	}
	if p.FailureThreshold <= 0 {
		p.FailureThreshold = DefaultFailureThreshold
	}
	if p.InitialDelay < 0 {
		p.InitialDelay = 0
	}
	return p
}

// probeOf returns the defaulted probe of kind k, or nil when the spec has none.
func probeOf(ps spec.Probes, k Kind) *spec.Probe {
	var p *spec.Probe
	switch k {
	case Startup:
		p = ps.Startup
	case Readiness:
		p = ps.Readiness
	case Liveness:
		p = ps.Liveness
	}
	if p == nil {
		return nil
	}
	d := withDefaults(*p)
	return &d
}
