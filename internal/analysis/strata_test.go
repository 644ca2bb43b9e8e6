package analysis

import (
	"strings"
	"testing"
)

// endpointSample is a cumulative sample whose whole traffic is ten times the endpoint's.
func endpointSample(cReq, cErr, bReq, bErr int64) Sample {
	ep := func(req, errs int64) Counts {
		return Counts{Requests: req * 10, Errors: errs, Endpoints: map[string]Counts{"checkout": {Requests: req, Errors: errs}}}
	}
	return Sample{Canary: ep(cReq, cErr), Baseline: ep(bReq, bErr)}
}

// TestStrataNamesTheEndpoint: errors confined to one endpoint fail the canary with a verdict
// that names it and gives its counts; the judge of the whole traffic alone, which judges
// one-sided windows alone, sees nothing in them.
func TestStrataNamesTheEndpoint(t *testing.T) {
	var samples []Sample
	for i := range int64(40) {
		// Each second the endpoint sees one request of one revision: the canary's every
		// fourth second (failing), the baseline's otherwise: every window is one-sided.
		c, b := (i+1)/4, i+1-(i+1)/4
		samples = append(samples, endpointSample(c, c, b, 0))
	}
	for _, tc := range []struct {
		names []string
		want  Outcome
	}{{nil, Inconclusive}, {[]string{"checkout"}, Fail}} {
		s, err := NewStrata(Config{SkipLatency: true}, tc.names, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, sm := range samples {
			s.Observe(sm)
		}
		v := s.Verdict()
		if v.Outcome != tc.want {
			t.Fatalf("endpoints %v: verdict %s (%s), want %s", tc.names, v.Outcome, v.Reason, tc.want)
		}
		if tc.want != Fail {
			continue
		}
		if v.Evidence.Endpoint != "checkout" || v.Rule != RuleErrorRatio || !strings.HasPrefix(v.Reason, "endpoint checkout: ") {
			t.Errorf("verdict %s %s on endpoint %q: %s; want the error rule naming checkout", v.Outcome, v.Rule, v.Evidence.Endpoint, v.Reason)
		}
		if len(v.Evidence.Endpoints) != 1 || v.Evidence.Endpoints[0].Canary.Errors == 0 || v.Evidence.Threshold != 40 {
			t.Errorf("evidence %+v; want checkout's counts and its threshold 1/(alpha/2) = 40", v.Evidence)
		}
		r, err := ResumeStrata(Config{SkipLatency: true}, tc.names, nil, s.Snapshot())
		if err != nil || r.Verdict().Evidence.Endpoint != "checkout" {
			t.Errorf("resumed strata: %v, %+v; want the endpoint's failure kept", err, r.Verdict())
		}
	}
}

// TestDescribe: a verdict's description says what was compared over how many requests, on
// which endpoint, the rule and what it is, and the figures.
func TestDescribe(t *testing.T) {
	s, _ := NewStrata(Config{SkipLatency: true}, []string{"checkout"}, nil)
	for i := range int64(40) {
		c, b := (i+1)/4, i+1-(i+1)/4 // one-sided seconds, as in TestStrataNamesTheEndpoint
		s.Observe(endpointSample(c, c, b, 0))
	}
	v := s.Verdict()
	v.Evidence.Compared = "canary revision 2 with stable revision 1"
	got := Describe(v)
	for _, want := range []string{"fail: canary revision 2 with stable revision 1 over ", " canary and ", " baseline requests (endpoint checkout)",
		"rule error_ratio: anytime-valid sequential test that the canary errors no more often than the baseline (false-rollback bound 0.025, fails at e-value 40)",
		"canary ", " errors in ", "e-value "} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe = %q\nlacks %q", got, want)
		}
	}
}
