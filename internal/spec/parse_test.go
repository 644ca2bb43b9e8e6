package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, doc []byte) *Service {
	t.Helper()
	s, err := Parse(doc, "test.yaml")
	if err != nil {
		t.Fatalf("Parse(%q) = %v", doc, err)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func sec(n int) Duration { return Duration(time.Duration(n) * time.Second) }

func TestParseMinimalAppliesDefaults(t *testing.T) {
	got := mustParse(t, readTestdata(t, "minimal.yaml"))
	want := &Service{
		Name:     "web",
		Run:      Run{Command: "./web"},
		Replicas: 1,
		Probes: Probes{Readiness: &Probe{
			TCP: &TCPProbe{}, Period: sec(1), Timeout: sec(1), SuccessThreshold: 1, FailureThreshold: 3,
		}},
		Route: Route{Listen: ":8080", Paths: []string{"/"}, Balance: "least_requests",
			Timeout: sec(30), DrainTimeout: sec(30)},
		Strategy: Strategy{Type: TypeRolling, Rolling: &Rolling{
			MaxSurge: IntOrPercent{Value: 25, Percent: true}, ProgressDeadline: sec(600), OnFailure: "rollback",
		}},
		StopGrace:            sec(30),
		RevisionHistoryLimit: 10,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("minimal.yaml (-want +got):\n%s", diff)
	}
}

func TestParseFull(t *testing.T) {
	got := mustParse(t, readTestdata(t, "full.yaml"))
	want := &Service{
		Name: "web",
		Run: Run{
			Command: "./web",
			Args:    []string{"--port-from-env", "--verbose"},
			Env: map[string]string{"LOG_LEVEL": "debug", "WORKERS": "4", "SESSION": "abc",
				"DATABASE_URL": "postgres://app:hunter2@db:5432/app", "STRIPE_KEY": "sk_live_123"},
			Dir:     "/srv/web",
			Secrets: []string{"SESSION"},
			Image:   "ghcr.io/acme/web:1.4.2",
		},
		Replicas: 3,
		Probes: Probes{
			Startup: &Probe{HTTP: &HTTPProbe{Path: "/healthz", Host: "web.local"}, Period: sec(2),
				Timeout: sec(1), SuccessThreshold: 1, FailureThreshold: 30},
			Readiness: &Probe{HTTP: &HTTPProbe{Path: "/ready"}, InitialDelay: sec(1), Period: sec(5),
				Timeout: sec(2), SuccessThreshold: 2, FailureThreshold: 2},
			Liveness: &Probe{Exec: &ExecProbe{Command: []string{"sh", "-c", "test -f /tmp/alive"}},
				Period: sec(1), Timeout: sec(1), SuccessThreshold: 1, FailureThreshold: 3},
		},
		Route: Route{Listen: "127.0.0.1:8080", Hosts: []string{"example.com", "*.example.com"},
			Paths: []string{"/api/", "/"}, Balance: "round_robin", Timeout: sec(15), DrainTimeout: sec(60)},
		Strategy: Strategy{Type: TypeRolling, Rolling: &Rolling{
			MaxSurge: IntOrPercent{Value: 1}, MaxUnavailable: IntOrPercent{Value: 10, Percent: true},
			MinReady: sec(5), ProgressDeadline: sec(300), OnFailure: "pause",
		}},
		StopGrace: sec(45),
		Hooks: Hooks{
			PreDeploy: &Hook{Command: "./migrate", Args: []string{"up"},
				Env: map[string]string{"MIGRATE_MODE": "expand"}, Timeout: sec(300)},
			Smoke:       &Hook{Command: "./smoke", Timeout: sec(30)},
			PostPromote: &Hook{Command: "./notify", Timeout: sec(300)},
		},
		RevisionHistoryLimit: 20,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("full.yaml (-want +got):\n%s", diff)
	}
}

func TestParseStrategies(t *testing.T) {
	bg := mustParse(t, readTestdata(t, "bluegreen.yaml"))
	wantBG := Strategy{Type: TypeBlueGreen, BlueGreen: &BlueGreen{PreviewListen: "127.0.0.1:9090",
		PreviewHeader: "X-Preview", ManualApproval: true, ScaleDownDelay: 0, ProgressDeadline: sec(600)}}
	if diff := cmp.Diff(wantBG, bg.Strategy); diff != "" {
		t.Errorf("bluegreen.yaml strategy (-want +got):\n%s", diff)
	}
	c := mustParse(t, readTestdata(t, "canary.yaml"))
	wantC := Strategy{Type: TypeCanary, Canary: &Canary{
		Steps: []CanaryStep{
			{Weight: ptr(5)}, {Pause: ptr(sec(60))}, {Analysis: &AnalysisStep{Duration: sec(120)}},
			{Weight: ptr(25)}, {Pause: ptr(Duration(0))}, {Weight: ptr(100)},
		},
		Analysis: CanaryAnalysis{Alpha: 0.01, Errors: ptr(true), Latency: ptr(false), MaxErrorRate: ptr(0.05),
			MaxP99: Duration(500 * time.Millisecond), MinRequests: 200, TargetRequests: 1000, Inconclusive: "fail"},
		Routing:          CanaryRouting{Header: "X-Canary", Cookie: "canary", Sticky: "cookie:session"},
		ProgressDeadline: sec(300),
	}}
	if diff := cmp.Diff(wantC, c.Strategy); diff != "" {
		t.Errorf("canary.yaml strategy (-want +got):\n%s", diff)
	}
	r := mustParse(t, []byte("name: a\nrun: {command: x}\nroute: {listen: ':1'}\nstrategy:\n  recreate:\n"))
	wantR := Strategy{Type: TypeRecreate, Recreate: &Recreate{ProgressDeadline: sec(600)}}
	if diff := cmp.Diff(wantR, r.Strategy); diff != "" {
		t.Errorf("recreate strategy (-want +got):\n%s", diff)
	}
}

// fieldErrors returns err's field errors, failing the test when err is not Errors.
func fieldErrors(t *testing.T, err error) Errors {
	t.Helper()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v (%T) is not spec.Errors", err, err)
	}
	return errs
}

func TestParseReportsEveryErrorAtOnce(t *testing.T) {
	doc := `name: Web
run:
  command: ./web
replicas: 0
route:
  listen: ":8080"
  balance: random
`
	_, err := Parse([]byte(doc), "web.yaml")
	errs := fieldErrors(t, err)
	type pos struct {
		Path      string
		Line, Col int
	}
	var got []pos
	for _, e := range errs {
		got = append(got, pos{e.Path, e.Line, e.Column})
	}
	want := []pos{{"name", 1, 1}, {"replicas", 4, 1}, {"route.balance", 7, 3}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "web.yaml:4:1: replicas: must be at least 1") {
		t.Errorf("Error() = %q, want 3 lines, the second \"web.yaml:4:1: replicas: must be at least 1\"", err.Error())
	}
}

func TestParseUnknownFieldAtDepth(t *testing.T) {
	doc := `name: web
run:
  command: ./web
route:
  listen: ":8080"
probes:
  readiness:
    http:
      paht: /healthz
`
	_, err := Parse([]byte(doc), "")
	errs := fieldErrors(t, err)
	if len(errs) != 2 {
		t.Fatalf("got %d errors, want 2 (unknown field, missing path): %v", len(errs), err)
	}
	got := errs[1]
	want := &FieldError{Path: "probes.readiness.http.paht", Line: 9, Column: 7,
		Message: `unknown field "paht" (did you mean "path"?)`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unknown field error (-want +got):\n%s", diff)
	}
	if errs[0].Path != "probes.readiness.http.path" || errs[0].Line != 8 {
		t.Errorf("first error = %+v, want probes.readiness.http.path at line 8 (its section)", errs[0])
	}
}

func TestParseMalformedYAML(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		line      int
		msg       string
	}{
		{"unclosed flow", "name: web\nrun:\n  args: [a, b\nroute: {}\n", 4, "malformed YAML"},
		{"bad indent", "name: web\nrun:\n  command: x\n   dir: y\n", 3, "malformed YAML"},
		{"duplicate key", "name: web\nname: api\n", 2, "already defined"},
		{"tab indent", "name: web\nrun:\n\tcommand: x\n", 3, "malformed YAML"},
		{"not a mapping", "- name: web\n", 1, "must be a mapping"},
		{"two documents", "name: a\n---\nname: b\n", 3, "one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "x.yaml")
			errs := fieldErrors(t, err)
			if len(errs) != 1 {
				t.Fatalf("Parse(%q): got %d errors, want 1: %v", tc.doc, len(errs), err)
			}
			e := errs[0]
			if e.Path != "" || e.Line != tc.line || !strings.Contains(e.Message, tc.msg) || e.File != "x.yaml" {
				t.Errorf("Parse(%q) = %+v, want path \"\", line %d, message containing %q, file x.yaml",
					tc.doc, e, tc.line, tc.msg)
			}
		})
	}
}

func TestParseEmptyDocument(t *testing.T) {
	_, err := Parse(nil, "")
	errs := fieldErrors(t, err)
	var paths []string
	for _, e := range errs {
		paths = append(paths, e.Path)
	}
	want := []string{"name", "run.command", "route.listen"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("empty document error paths (-want +got):\n%s", diff)
	}
}

func TestParseAnchorsAndTags(t *testing.T) {
	doc := `name: web
run:
  command: ./web
  env: &env
    A: "1"
route:
  listen: !!str ":8080"
hooks:
  smoke:
    command: !!str 42
    env: *env
`
	s := mustParse(t, []byte(doc))
	if s.Hooks.Smoke.Command != "42" || s.Hooks.Smoke.Env["A"] != "1" {
		t.Errorf("smoke hook = %+v, want command \"42\" (tagged !!str) and env A=1 (alias)", s.Hooks.Smoke)
	}
}

func TestFieldErrorString(t *testing.T) {
	for _, tc := range []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "a.yaml", Path: "replicas", Line: 3, Column: 1, Message: "m"}, "a.yaml:3:1: replicas: m"},
		{FieldError{Path: "replicas", Line: 3, Column: 1, Message: "m"}, "3:1: replicas: m"},
		{FieldError{Path: "replicas", Message: "m"}, "replicas: m"},
		{FieldError{File: "a.yaml", Line: 2, Column: 4, Message: "malformed"}, "a.yaml:2:4: malformed"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v.Error() = %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestParseRefusesPathologicalDocuments(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		msg       string
	}{
		{"too large", base + "# " + strings.Repeat("x", MaxSize) + "\n", "limit is"},
		{"flow nesting", "name: " + strings.Repeat("[", 10000), "nested too deeply"},
		{"flow mapping nesting", "name: " + strings.Repeat("{a: ", 10000), "nested too deeply"},
		{"block list nesting", "name:\n" + strings.Repeat("- ", 10000) + "x\n", "nested too deeply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse([]byte(tc.doc), "")
			errs := fieldErrors(t, err)
			if len(errs) != 1 || !strings.Contains(errs[0].Message, tc.msg) {
				t.Errorf("Parse(%s) = %v, want one error containing %q", tc.name, err, tc.msg)
			}
			t.Logf("refused in %v", time.Since(start))
		})
	}
}
