package analysis

import (
	"fmt"
	"slices"
	"strings"
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
	names  []string // endpoints, then CountedPrefix + each counted source
	groups []*Judge
	alpha  float64 // the whole analysis' alpha
}

// CountedPrefix starts the stratum name of a source of counts outside the proxy (a
// Prometheus check with requests and errors queries): its counts are the Sample's
// Counts.Endpoints[CountedPrefix+name], judged by the error test alone.
const CountedPrefix = "prometheus:"

// endpointAlphaShare is the part of alpha the endpoints share when the route names some.
const endpointAlphaShare = 0.5

// NewStrata returns the judge of cfg over the whole traffic, over each named endpoint and
// over each counted source (none: a Judge's judgement alone, with all of alpha), or the
// errors of Validate.
func NewStrata(cfg Config, endpoints, counted []string) (*Strata, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Strata{names: slices.Clone(endpoints), alpha: cfg.withDefaults().Alpha}
	for _, c := range counted {
		s.names = append(s.names, CountedPrefix+c)
	}
	whole, _ := strataConfigs(cfg, len(s.names))
	var err error
	if s.all, err = New(whole); err != nil {
		return nil, err
	}
	for _, name := range s.names {
		g, err := New(s.partConfig(cfg, name))
		if err != nil {
			return nil, err
		}
		s.groups = append(s.groups, g)
	}
	return s, nil
}

// partConfig is the configuration of stratum name: a counted source's tests its errors only.
func (s *Strata) partConfig(cfg Config, name string) Config {
	_, part := strataConfigs(cfg, len(s.names))
	if strings.HasPrefix(name, CountedPrefix) {
		part.SkipErrors, part.SkipLatency = false, true
	}
	return part
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

// ResumeStrata returns the Strata of NewStrata that continues from s (see Resume); a
// stratum missing from s starts afresh.
func ResumeStrata(cfg Config, endpoints, counted []string, s Snapshot) (*Strata, error) {
	st, err := NewStrata(cfg, endpoints, counted)
	if err != nil {
		return nil, err
	}
	whole, _ := strataConfigs(cfg, len(st.names))
	if st.all, err = Resume(whole, s); err != nil {
		return nil, err
	}
	for i, name := range st.names {
		g, ok := s.Endpoints[name]
		if !ok {
			continue
		}
		if st.groups[i], err = Resume(st.partConfig(cfg, name), g); err != nil {
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
				f.Reason = fmt.Sprintf("%s: %s (alpha %s split over the whole traffic and %d %s)",
					stratumLabel(s.names[i]), f.Reason, num(s.alpha), len(s.groups), plural(len(s.groups), "stratum", "strata"))
				f.Evidence.Endpoint = s.names[i]
				v = f
				break
			}
		}
	}
	v.Evidence.Endpoints = s.endpointEvidence()
	return v
}

// stratumLabel names a stratum for people: "endpoint checkout", "prometheus counts gateway".
func stratumLabel(name string) string {
	if c, ok := strings.CutPrefix(name, CountedPrefix); ok {
		return "prometheus counts " + c
	}
	return "endpoint " + name
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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

// StartMargin starts the margin tests of an evidence-paced ramp on the whole traffic (see
// Judge.StartMargin).
func (s *Strata) StartMargin(m float64) error { return s.all.StartMargin(m) }
