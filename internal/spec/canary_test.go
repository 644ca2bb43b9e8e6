package spec

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCanaryAnalysisNumbersRoundTrip checks that the analysis' numbers come back exactly from
// Marshal (YAML) and from JSON, the form revisions are stored in.
func TestCanaryAnalysisNumbersRoundTrip(t *testing.T) {
	for _, f := range []float64{0.5, 0.05, 1, 0, 1e-7, 0.1 + 0.2, 0.3333333333333333} {
		t.Run(fmt.Sprint(f), func(t *testing.T) {
			doc := base + fmt.Sprintf("strategy:\n  canary:\n    steps: [weight: 5]\n    analysis: {alpha: %v, max_error_rate: %v}\n",
				min(f, 0.5), f)
			if min(f, 0.5) == 0 {
				doc = base + fmt.Sprintf("strategy:\n  canary:\n    steps: [weight: 5]\n    analysis: {max_error_rate: %v}\n", f)
			}
			s := mustParse(t, []byte(doc))
			if got := *s.Strategy.Canary.Analysis.MaxErrorRate; got != f {
				t.Fatalf("Parse: max_error_rate = %v, want %v", got, f)
			}
			out, err := Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			back := mustParse(t, out)
			if diff := cmp.Diff(s, back); diff != "" {
				t.Errorf("Parse(Marshal) (-want +got):\n%s\n%s", diff, out)
			}
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var fromJSON Service
			if err := json.Unmarshal(b, &fromJSON); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s, &fromJSON); diff != "" {
				t.Errorf("JSON round trip (-want +got):\n%s\n%s", diff, b)
			}
		})
	}
}

func TestCanaryAnalysisHasMetric(t *testing.T) {
	f, tr := new(false), new(true)
	for _, tc := range []struct {
		name string
		a    CanaryAnalysis
		want bool
	}{
		{"defaults (nil is on)", CanaryAnalysis{}, true},
		{"errors only", CanaryAnalysis{Errors: tr, Latency: f}, true},
		{"latency only", CanaryAnalysis{Errors: f, Latency: tr}, true},
		{"nothing", CanaryAnalysis{Errors: f, Latency: f}, false},
		{"max_error_rate zero is a limit", CanaryAnalysis{Errors: f, Latency: f, MaxErrorRate: new(0.0)}, true},
		{"max_p99", CanaryAnalysis{Errors: f, Latency: f, MaxP99: sec(1)}, true},
	} {
		if got := tc.a.HasMetric(); got != tc.want {
			t.Errorf("%s: HasMetric() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestCanaryBaselineRoundTrip checks that baseline comes back from Marshal (YAML) and JSON,
// and that it defaults to false.
func TestCanaryBaselineRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want bool
	}{
		{"strategy:\n  canary:\n    baseline: true\n    steps: [weight: 5]\n", true},
		{"strategy:\n  canary:\n    baseline: false\n    steps: [weight: 5]\n", false},
		{"strategy:\n  canary:\n    steps: [weight: 5]\n", false},
	} {
		s := mustParse(t, []byte(base+tc.doc))
		if got := s.Strategy.Canary.Baseline; got != tc.want {
			t.Fatalf("Parse(%q): baseline = %v, want %v", tc.doc, got, tc.want)
		}
		out, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if back := mustParse(t, out); back.Strategy.Canary.Baseline != tc.want {
			t.Errorf("Parse(Marshal(%q)): baseline = %v, want %v\n%s", tc.doc, back.Strategy.Canary.Baseline, tc.want, out)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var fromJSON Service
		if err := json.Unmarshal(b, &fromJSON); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s, &fromJSON); diff != "" {
			t.Errorf("JSON round trip of %q (-want +got):\n%s", tc.doc, diff)
		}
	}
}
