package spec

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOverride(t *testing.T) {
	for _, tc := range []struct {
		name string
		sets []string
		env  []string
		get  func(*Service) any
		want any
	}{
		{"replicas", []string{"replicas=3"}, nil, func(s *Service) any { return s.Replicas }, 3},
		{"command as written", []string{"run.command=./app --flag"}, nil, func(s *Service) any { return s.Run.Command }, "./app --flag"},
		{"string field keeps digits", []string{"run.dir=2024"}, nil, func(s *Service) any { return s.Run.Dir }, "2024"},
		{"list", []string{"run.args=[a, b]"}, nil, func(s *Service) any { return s.Run.Args }, []string{"a", "b"}},
		{"new nested section", []string{"strategy.rolling.max_surge=50%"}, nil,
			func(s *Service) any { return s.Strategy.Rolling.MaxSurge }, IntOrPercent{50, true}},
		{"switch strategy", []string{"strategy={blue_green: {}}"}, nil,
			func(s *Service) any { return s.Strategy.Type }, TypeBlueGreen},
		{"existing field replaced", []string{"route.listen=127.0.0.1:9000"}, nil,
			func(s *Service) any { return s.Route.Listen }, "127.0.0.1:9000"},
		{"env entry", nil, []string{"DEBUG=1", "URL=http://x/?a=b"}, func(s *Service) any { return s.Run.Env },
			map[string]string{"DEBUG": "1", "URL": "http://x/?a=b", "KEEP": "yes"}},
		{"env entry removed", nil, []string{"NEW=1", "KEEP-"}, func(s *Service) any { return s.Run.Env },
			map[string]string{"NEW": "1"}},
		{"env through set", []string{"run.env.LEVEL=debug"}, nil, func(s *Service) any { return s.Run.Env["LEVEL"] }, "debug"},
		{"later set wins", []string{"replicas=2", "replicas=4"}, nil, func(s *Service) any { return s.Replicas }, 4},
		{"duration", []string{"stop_grace=5s"}, nil, func(s *Service) any { return s.StopGrace }, sec(5)},
		{"canary steps and analysis", []string{
			"strategy={canary: {}}",
			"strategy.canary.steps=[{weight: 5}, {pause: {}}, {analysis: {duration: 1m}}]",
			"strategy.canary.analysis.alpha=0.01", "strategy.canary.analysis.errors=false",
			"strategy.canary.analysis.max_error_rate=0", "strategy.canary.routing.sticky=cookie:sid",
		}, nil, func(s *Service) any { return s.Strategy.Canary }, &Canary{
			Steps:    []CanaryStep{{Weight: ptr(5)}, {Pause: ptr(Duration(0))}, {Analysis: &AnalysisStep{Duration: sec(60)}}},
			Analysis: CanaryAnalysis{Alpha: 0.01, Errors: ptr(false), Latency: ptr(true), MaxErrorRate: ptr(0.0), MinRequests: 100, Inconclusive: "pause"},
			Routing:  CanaryRouting{Sticky: "cookie:sid"}, ProgressDeadline: sec(600),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(base, "  command: ./web\n", "  command: ./web\n  env: {KEEP: \"yes\"}\n", 1)
			out, err := Override([]byte(doc), tc.sets, tc.env)
			if err != nil {
				t.Fatalf("Override(%v, %v) = %v", tc.sets, tc.env, err)
			}
			s, err := Parse(out, "")
			if err != nil {
				t.Fatalf("Parse(Override(%v, %v)) = %v\n%s", tc.sets, tc.env, err, out)
			}
			if diff := cmp.Diff(tc.want, tc.get(s)); diff != "" {
				t.Errorf("Override(%v, %v) (-want +got):\n%s\n%s", tc.sets, tc.env, diff, out)
			}
			if s.Name != "web" || s.Run.Command == "" {
				t.Errorf("Override(%v) lost other fields:\n%s", tc.sets, out)
			}
		})
	}
}

func TestOverrideErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		doc       string
		sets, env []string
		want      []string
	}{
		{"unknown field", base, []string{"strategy.rollng.max_surge=1"}, nil, []string{`--set strategy.rollng.max_surge: unknown field "rollng" (did you mean "rolling"?)`}},
		{"unknown top field", base, []string{"replica=1"}, nil, []string{`unknown field "replica"`}},
		{"derived type", base, []string{"strategy.type=canary"}, nil, []string{`unknown field "type"`}},
		{"below a leaf", base, []string{"replicas.x=1"}, nil, []string{`replicas is not a section`}},
		{"below a duration", base, []string{"stop_grace.s=1"}, nil, []string{`stop_grace is not a section`}},
		{"no equals", base, []string{"replicas"}, nil, []string{`want path=value`}},
		{"bad yaml value", base, []string{"run.args=[a"}, nil, []string{`is not YAML`}},
		{"env without equals", base, nil, []string{"DEBUG"}, []string{`--env "DEBUG": want KEY=VALUE, or KEY- to remove KEY`}},
		{"env removed but absent", base, nil, []string{"NOPE-"}, []string{`--env NOPE-: run.env has no NOPE to remove`}},
		{"all at once", base, []string{"nope=1", "replicas=2"}, []string{"=x"}, []string{`nope`, `--env "=x"`}},
		{"malformed doc", "name: [x\n", []string{"replicas=2"}, nil, []string{"malformed YAML"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Override([]byte(tc.doc), tc.sets, tc.env)
			if err == nil {
				t.Fatalf("Override(%v, %v) = %s, want an error", tc.sets, tc.env, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Override(%v, %v) error = %v, want containing %q", tc.sets, tc.env, err, w)
				}
			}
		})
	}
}

func TestOverrideNothingReturnsDocument(t *testing.T) {
	doc := []byte(base + "# kept\n")
	out, err := Override(doc, nil, nil)
	if err != nil || string(out) != string(doc) {
		t.Errorf("Override(doc, nil, nil) = %q, %v; want the document unchanged", out, err)
	}
}

func TestOverrideRefusesAliasBombs(t *testing.T) {
	var b strings.Builder
	b.WriteString(base + "x0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	_, err := Override([]byte(b.String()), []string{"replicas=2"}, nil)
	if err == nil || !strings.Contains(err.Error(), "through aliases") {
		t.Errorf("Override(alias bomb) error = %v, want \"through aliases\"", err)
	}
	// A few aliases are fine.
	doc := strings.Replace(base, "  command: ./web\n", "  command: &c ./web\n  args: [*c, *c]\n", 1)
	if _, err := Override([]byte(doc), []string{"replicas=2"}, nil); err != nil {
		t.Errorf("Override(doc with aliases) = %v", err)
	}
}
