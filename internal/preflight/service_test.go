package preflight

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/spec"
)

func checkSpecFile(t *testing.T, path string) []Finding {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse(data, path)
	if err != nil {
		t.Fatal(err)
	}
	return Service(path, string(data), s, YAMLLines(data, spec.Limits))
}

func TestGoodSpecPasses(t *testing.T) {
	if fs := checkSpecFile(t, "testdata/good.yaml"); len(fs) != 0 {
		t.Errorf("findings of good.yaml: %v, want none", ruleLines(fs))
	}
}

// TestBadSpec checks a spec that breaks the service rules, each at the line of its field.
func TestBadSpec(t *testing.T) {
	fs := checkSpecFile(t, "testdata/bad.yaml")
	want := []string{"service/canary-judges-nothing:16", "service/drain-exceeds-grace:14", "service/liveness-is-readiness:11",
		"service/no-config-schema:4", "service/no-notifications:1", "service/no-resource-limits:4", "service/no-rollback-window:3",
		"service/one-replica:1", "service/secret-in-spec:7", "service/secret-in-spec:8", "service/unpinned-image:5"}
	if diff := cmp.Diff(ruleLines(fs), want); diff != "" {
		t.Errorf("findings (-got +want):\n%s", diff)
	}
	for _, f := range fs {
		if strings.Contains(f.Message+f.Fix, "hunter2") || strings.Contains(f.Message+f.Fix, ":pw@") {
			t.Errorf("finding %s quotes a secret value: %s / %s", f.Rule, f.Message, f.Fix)
		}
	}
}

// TestServiceRules gives the rules the bad spec does not reach a spec to flag and one not to.
func TestServiceRules(t *testing.T) {
	good, err := os.ReadFile("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, rule, old, new string
		want                 []string
	}{
		{"no readiness", "service/no-readiness", "  readiness: {http: {path: /ready}}\n", "", []string{"service/no-readiness:9"}},
		{"container healthcheck gates", "service/no-readiness", "  readiness: {http: {path: /ready}}\n",
			"", nil},
		{"recreate", "service/recreate", "hooks:", "strategy: {recreate: {}}\nhooks:", []string{"service/recreate:15"}},
		{"blue-green without delay", "service/no-rollback-window", "hooks:", "strategy: {blue_green: {scale_down_delay: 0s}}\nhooks:", []string{"service/no-rollback-window:15"}},
		{"blue-green with delay", "service/no-rollback-window", "hooks:", "strategy: {blue_green: {scale_down_delay: 5m}}\nhooks:", nil},
		{"undeclared env", "service/undeclared-env", "LOG_LEVEL: info", "LOG_LEVEL: info\n    COLOR: blue", []string{"service/undeclared-env:8"}},
		{"override", "service/one-replica", "replicas: 3", "replicas: 1 # +cutover check-override service/one-replica reason: a batch endpoint",
			[]string{"service/one-replica:2 overridden"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(string(good), tc.old, tc.new, 1)
			if tc.name == "container healthcheck gates" {
				doc = strings.Replace(doc, "cpus: 0.5}", "cpus: 0.5, healthcheck: {test: [CMD, /app, -healthcheck]}}", 1)
			}
			s, err := spec.Parse([]byte(doc), "web.yaml")
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, r := range ruleLines(Service("web.yaml", doc, s, YAMLLines([]byte(doc), spec.Limits))) {
				if strings.HasPrefix(r, tc.rule+":") {
					got = append(got, r)
				}
			}
			if diff := cmp.Diff(got, append([]string{}, tc.want...)); diff != "" {
				t.Errorf("%s findings of %s (-got +want):\n%s", tc.rule, tc.name, diff)
			}
		})
	}
}
