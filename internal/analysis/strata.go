package analysis

import (
	"fmt"
	"slices"
)

// Strata judges a canary on its whole traffic and, apart, on each of the route's endpoints,
// so that a regression confined to an endpoint with a small share of the traffic (a broken
// /checkout among healthy pages) is not diluted by the rest. Each stratum is a Judge of its
// own; alpha is split between them (a union bound: the whole traffic keeps half, the
// endpoints share the other half equally), so the false-rollback probability of the whole
// analysis stays at most alpha. The absolute limits (max_error_rate, max_p99) and the pass
// rules (target_requests, min_requests) apply to the whole traffic only; any stratum's
// failure fails the canary, and its verdict names the endpoint with that endpoint's evidence.
// Like Judge, it is not safe for concurrent use.
type Strata struct {
	all    *Judge
	names  []string
	groups []*Judge
	alpha  float64 // the whole analysis' alpha
}

// endpointAlphaShare is the part of alpha the endpoints share when the route names some.
const endpointAlphaShare = 0.5

// NewStrata returns the judge of cfg over the whole traffic and over each named endpoint
// (none: a Judge's judgement alone, with all of alpha), or the errors of Validate.
func NewStrata(cfg Config, endpoints []string) (*Strata, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	whole, parts := strataConfigs(cfg, len(endpoints))
	s := &Strata{names: slices.Clone(endpoints), alpha: cfg.withDefaults().Alpha}
	var err error
	if s.all, err = New(whole); err != nil {
		return nil, err
	}
	for range endpoints {
		g, err := New(parts)
		if err != nil {
			return nil, err
		}
		s.groups = append(s.groups, g)
	}
	return s, nil
}

// strataConfigs splits cfg into the whole traffic's and each endpoint's configuration.
func strataConfigs(cfg Config, n int) (whole, part Config) {
	cfg = cfg.withDefaults()
	if n == 0 {
		return cfg, Config{}
	}
	whole, part = cfg, cfg
	whole.Alpha = cfg.Alpha * (1 - endpointAlphaShare)
	part.Alpha = cfg.Alpha * endpointAlphaShare / float64(n)
	part.MaxErrorRate, part.MaxP99, part.TargetRequests = nil, 0, 0
	part.mergeOneSided = true
	return whole, part
}

// ResumeStrata returns the Strata of cfg and endpoints that continues from s (see Resume);
// an endpoint missing from s starts afresh.
func ResumeStrata(cfg Config, endpoints []string, s Snapshot) (*Strata, error) {
	st, err := NewStrata(cfg, endpoints)
	if err != nil {
		return nil, err
	}
	whole, parts := strataConfigs(cfg, len(endpoints))
	if st.all, err = Resume(whole, s); err != nil {
		return nil, err
	}
	for i, name := range endpoints {
		g, ok := s.Endpoints[name]
		if !ok {
			continue
		}
		if st.groups[i], err = Resume(parts, g); err != nil {
			return nil, fmt.Errorf("endpoint %s: %w", name, err)
		}
	}
	return st, nil
}

// Snapshot returns the whole traffic's snapshot with each endpoint's in Endpoints.
func (s *Strata) Snapshot() Snapshot {
	snap := s.all.Snapshot()
	if len(s.groups) > 0 {
		snap.Endpoints = make(map[string]Snapshot, len(s.groups))
		for i, g := range s.groups {
			snap.Endpoints[s.names[i]] = g.Snapshot()
		}
	}
	return snap
}

// Observe folds in a sample: the whole traffic's counters, and each endpoint's from
// Counts.Endpoints (an endpoint without counters yet counts as zero).
func (s *Strata) Observe(sm Sample) {
	s.all.Observe(sm)
	for i, g := range s.groups {
		g.Observe(Sample{Canary: sm.Canary.Endpoints[s.names[i]], Baseline: sm.Baseline.Endpoints[s.names[i]]})
	}
}

// Verdict is Judge.Verdict of the whole traffic, unless an endpoint has failed.
func (s *Strata) Verdict() Verdict { return s.decide(s.all.Verdict()) }

// Final is Judge.Final of the whole traffic, unless an endpoint has failed.
func (s *Strata) Final() Verdict { return s.decide(s.all.Final()) }

// decide returns the first endpoint failure when the whole traffic has not failed, v
// otherwise, with the endpoints' summaries in its evidence.
func (s *Strata) decide(v Verdict) Verdict {
	if v.Outcome != Fail {
		for i, g := range s.groups {
			if g.failed != nil {
				f := *g.failed
				f.Reason = fmt.Sprintf("endpoint %s: %s (alpha %s split over the whole traffic and %d endpoints)",
					s.names[i], f.Reason, num(s.alpha), len(s.groups))
				f.Evidence.Endpoint = s.names[i]
				v = f
				break
			}
		}
	}
	v.Evidence.Endpoints = s.endpointEvidence()
	return v
}

// endpointEvidence summarises each endpoint's tests.
func (s *Strata) endpointEvidence() []EndpointEvidence {
	var out []EndpointEvidence
	for i, g := range s.groups {
		ev := g.evidence()
		if g.failed != nil {
			ev = g.failed.Evidence
		}
		out = append(out, EndpointEvidence{Name: s.names[i], Canary: ev.Canary, Baseline: ev.Baseline,
			EValue: ev.EValue, Threshold: ev.Threshold})
	}
	return out
}
