package spec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// base is a valid spec of five lines; cases append from line 6.
const base = `name: web
run:
  command: ./web
route:
  listen: ":8080"
`

type wantErr struct {
	path string
	line int
	msg  string
}

func TestParseValidationRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want []wantErr
	}{
		{"valid", base, nil},
		{"valid image without command", "name: web\nrun:\n  image: app:1.2\nroute:\n  listen: \":1\"\n", nil},
		{"name missing", "run: {command: x}\nroute: {listen: ':1'}\n", []wantErr{{"name", 0, "required"}}},
		{"name uppercase", strings.Replace(base, "name: web", "name: Web", 1), []wantErr{{"name", 1, "DNS label"}}},
		{"name trailing dash", strings.Replace(base, "name: web", "name: web-", 1), []wantErr{{"name", 1, "must not end with '-'"}}},
		{"name starts with digit", strings.Replace(base, "name: web", "name: 1web", 1), []wantErr{{"name", 1, "DNS label"}}},
		{"name too long", strings.Replace(base, "name: web", "name: a"+strings.Repeat("b", 63), 1), []wantErr{{"name", 1, "DNS label"}}},
		{"command missing", strings.Replace(base, "command: ./web", "dir: /srv", 1), []wantErr{{"run.command", 2, "required unless run.image"}}},
		{"runtime kubernetes with image", "name: web\nrun:\n  image: app:1.2\n  runtime: kubernetes\nroute:\n  listen: \":1\"\n", nil},
		{"runtime kubernetes without image", strings.Replace(base, "command: ./web", "command: ./web\n  runtime: kubernetes", 1),
			[]wantErr{{"run.runtime", 4, "set run.image"}}},
		{"runtime unknown", strings.Replace(base, "command: ./web", "command: ./web\n  runtime: k8s", 1),
			[]wantErr{{"run.runtime", 4, "is not a runtime"}}},
		{"unknown field in route", base + "  env: {}\n", []wantErr{{"route.env", 6, "unknown field"}}},
		{"env key invalid", strings.Replace(base, "  command: ./web\n", "  command: ./web\n  env:\n    1FOO: x\n", 1),
			[]wantErr{{"run.env.1FOO", 5, "invalid name"}}},
		{"env PORT", strings.Replace(base, "  command: ./web\n", "  command: ./web\n  env:\n    PORT: \"80\"\n", 1),
			[]wantErr{{"run.env.PORT", 5, "set by cutover"}}},
		{"secret not an env key", strings.Replace(base, "  command: ./web\n", "  command: ./web\n  env: {A: b}\n  secrets: [A, B]\n", 1),
			[]wantErr{{"run.secrets[1]", 5, "not a key of run.env"}}},
		{"endpoints valid", base + "  endpoints:\n    - {name: checkout, paths: [/checkout], methods: [POST]}\n", nil},
		{"endpoint header valid", base + "  endpoint_header: {name: X-Endpoint, strip: true}\n  endpoints:\n    - {name: pay, header_values: [payment, refund]}\n    - {name: gql, paths: [/graphql], header_values: [mutation]}\n", nil},
		{"endpoint header bad", base + "  endpoint_header: {name: Content-Type}\n  endpoints:\n    - {name: pay, header_values: [\" pay\"]}\n",
			[]wantErr{{"route.endpoint_header.name", 6, "frames or carries"}, {"route.endpoints[0].header_values[0]", 8, "printable"}}},
		{"endpoint header unused", base + "  endpoint_header: {name: \"X Endpoint\"}\n  endpoints:\n    - {name: pay, paths: [/pay]}\n",
			[]wantErr{{"route.endpoint_header", 6, "no endpoint has header_values"}, {"route.endpoint_header.name", 6, "header name"}}},
		{"header values without header", base + "  endpoints:\n    - {name: pay, header_values: [payment]}\n",
			[]wantErr{{"route.endpoints[0].header_values[0]", 7, "needs route.endpoint_header"}}},
		{"endpoints bad", base + "  endpoints:\n    - {name: Checkout, paths: [checkout]}\n    - {name: b, methods: [post]}\n    - {name: b}\n",
			[]wantErr{{"route.endpoints[0].name", 7, "lowercase"}, {"route.endpoints[0].paths[0]", 7, "start with '/'"},
				{"route.endpoints[1].methods[0]", 8, "capitals"}, {"route.endpoints[2]", 9, "set paths, methods"}, {"route.endpoints[2].name", 9, "named twice"}}},
		{"ramp valid", base + "strategy:\n  canary:\n    steps: [weight: 5, ramp: {max: 50}, weight: 100]\n", nil},
		{"ramp bad", base + "strategy:\n  canary:\n    steps: [ramp: {max: 150, factor: 1, margin: 0.5, min_requests: -1}]\n",
			[]wantErr{{"strategy.canary.steps[0].ramp", 8, "weight step above 0"}, {"strategy.canary.steps[0].ramp.factor", 8, "above 1"},
				{"strategy.canary.steps[0].ramp.margin", 8, "above 1 and at most 100"}, {"strategy.canary.steps[0].ramp.min_requests", 8, "at least 1"}}},
		{"replicas zero", base + "replicas: 0\n", []wantErr{{"replicas", 6, "must be at least 1"}}},
		{"replicas negative", base + "replicas: -2\n", []wantErr{{"replicas", 6, "must be at least 1"}}},
		{"replicas too many", base + "replicas: 1001\n", []wantErr{{"replicas", 6, "at most 1000"}}},
		{"probe without handler", base + "probes:\n  readiness:\n    period: 2s\n", []wantErr{{"probes.readiness", 7, "one of http, tcp, exec"}}},
		{"probe with two handlers", base + "probes:\n  readiness:\n    tcp: {}\n    http: {path: /}\n", []wantErr{{"probes.readiness", 7, "only one of"}}},
		{"http path relative", base + "probes:\n  readiness:\n    http: {path: healthz}\n", []wantErr{{"probes.readiness.http.path", 8, "start with '/'"}}},
		{"http path missing", base + "probes:\n  startup:\n    http: {}\n", []wantErr{{"probes.startup.http.path", 8, "required"}}},
		{"exec command empty", base + "probes:\n  liveness:\n    exec: {command: []}\n", []wantErr{{"probes.liveness.exec.command", 8, "program"}}},
		{"probe period zero", base + "probes:\n  readiness:\n    tcp:\n    period: 0s\n", []wantErr{{"probes.readiness.period", 9, "greater than 0"}}},
		{"probe timeout negative", base + "probes:\n  readiness:\n    tcp:\n    timeout: -1s\n", []wantErr{{"probes.readiness.timeout", 9, "greater than 0"}}},
		{"probe thresholds zero", base + "probes:\n  readiness:\n    tcp:\n    success_threshold: 0\n    failure_threshold: 0\n",
			[]wantErr{{"probes.readiness.success_threshold", 9, "at least 1"}, {"probes.readiness.failure_threshold", 10, "at least 1"}}},
		{"liveness success threshold", base + "probes:\n  liveness:\n    tcp:\n    success_threshold: 2\n", []wantErr{{"probes.liveness.success_threshold", 9, "must be 1 for a liveness probe"}}},
		{"startup success threshold", base + "probes:\n  startup:\n    tcp:\n    success_threshold: 3\n", []wantErr{{"probes.startup.success_threshold", 9, "must be 1 for a startup probe"}}},
		{"readiness success threshold 2 ok", base + "probes:\n  readiness:\n    tcp:\n    success_threshold: 2\n", nil},
		{"initial delay negative", base + "probes:\n  readiness:\n    tcp:\n    initial_delay: -1s\n", []wantErr{{"probes.readiness.initial_delay", 9, "negative"}}},
		{"route missing", "name: web\nrun: {command: x}\n", []wantErr{{"route.listen", 0, "required"}}},
		{"listen without port", strings.Replace(base, `":8080"`, "\"8080\"", 1), []wantErr{{"route.listen", 5, "host:port"}}},
		{"listen port zero", strings.Replace(base, `":8080"`, `":0"`, 1), []wantErr{{"route.listen", 5, "port out of range"}}},
		{"listen port too big", strings.Replace(base, `":8080"`, `"127.0.0.1:65536"`, 1), []wantErr{{"route.listen", 5, "port out of range"}}},
		{"listen port name", strings.Replace(base, `":8080"`, `":http"`, 1), []wantErr{{"route.listen", 5, "not a number"}}},
		{"listen hostname", strings.Replace(base, `":8080"`, `"example.com:80"`, 1), []wantErr{{"route.listen", 5, "IP address or localhost"}}},
		{"listen localhost ok", strings.Replace(base, `":8080"`, `"localhost:80"`, 1), nil},
		{"listen ipv6 ok", strings.Replace(base, `":8080"`, `"[::1]:80"`, 1), nil},
		{"hosts", base + "  hosts: [example.com, \"*.example.com\", bad_host, \"\", \"a..b\"]\n",
			[]wantErr{{"route.hosts[2]", 6, "DNS name"}, {"route.hosts[3]", 6, "DNS name"}, {"route.hosts[4]", 6, "DNS name"}}},
		{"paths", base + "  paths:\n    - /api\n    - api\n", []wantErr{{"route.paths[1]", 8, "start with '/'"}}},
		{"balance", base + "  balance: random\n", []wantErr{{"route.balance", 6, "least_requests, round_robin"}}},
		{"route timeouts", base + "  timeout: 0s\n  drain_timeout: -1s\n",
			[]wantErr{{"route.timeout", 6, "greater than 0"}, {"route.drain_timeout", 7, "greater than 0"}}},
		{"two strategies", base + "strategy:\n  rolling: {}\n  canary: {steps: [{weight: 100}]}\n",
			[]wantErr{{"strategy", 6, "only one of"}}},
		{"rolling both zero", base + "strategy:\n  rolling:\n    max_surge: 0\n    max_unavailable: 0\n",
			[]wantErr{{"strategy.rolling.max_surge", 8, "cannot both be zero"}}},
		{"rolling surge zero unavailable one ok", base + "strategy:\n  rolling:\n    max_surge: 0\n    max_unavailable: 1\n", nil},
		{"rolling percent over 100", base + "strategy:\n  rolling:\n    max_surge: 150%\n", []wantErr{{"strategy.rolling.max_surge", 8, "at most 100%"}}},
		{"rolling negative", base + "strategy:\n  rolling:\n    max_unavailable: -1\n", []wantErr{{"strategy.rolling.max_unavailable", 8, "negative"}}},
		{"rolling on_failure", base + "strategy:\n  rolling:\n    on_failure: retry\n", []wantErr{{"strategy.rolling.on_failure", 8, "rollback or pause"}}},
		{"rolling deadline zero", base + "strategy:\n  rolling:\n    progress_deadline: 0s\n", []wantErr{{"strategy.rolling.progress_deadline", 8, "greater than 0"}}},
		{"rolling min_ready not below deadline", base + "strategy:\n  rolling:\n    min_ready: 10m\n", []wantErr{{"strategy.rolling.min_ready", 8, "less than progress_deadline"}}},
		{"rolling min_ready negative", base + "strategy:\n  rolling:\n    min_ready: -1s\n", []wantErr{{"strategy.rolling.min_ready", 8, "negative"}}},
		{"blue_green preview same as listen", base + "strategy:\n  blue_green:\n    preview_listen: 0.0.0.0:8080\n",
			[]wantErr{{"strategy.blue_green.preview_listen", 8, "differ from route.listen"}}},
		{"blue_green preview bad", base + "strategy:\n  blue_green:\n    preview_listen: \":0\"\n",
			[]wantErr{{"strategy.blue_green.preview_listen", 8, "port out of range"}}},
		{"blue_green scale down negative", base + "strategy:\n  blue_green:\n    scale_down_delay: -1s\n",
			[]wantErr{{"strategy.blue_green.scale_down_delay", 8, "negative"}}},
		{"blue_green header", base + "strategy:\n  blue_green:\n    preview_header: \"X Preview\"\n",
			[]wantErr{{"strategy.blue_green.preview_header", 8, "header name"}}},
		{"recreate deadline", base + "strategy:\n  recreate: {progress_deadline: 0s}\n",
			[]wantErr{{"strategy.recreate.progress_deadline", 7, "greater than 0"}}},
		{"canary no steps", base + "strategy:\n  canary: {}\n", []wantErr{{"strategy.canary.steps", 7, "at least one step"}}},
		{"canary steps", base + `strategy:
  canary:
    steps:
      - weight: 50
      - {weight: 10, pause: 1m}
      - weight: 20
      - {}
      - weight: 101
      - pause: -1s
      - {pause: 1m, analysis: {duration: 1m}}
      - analysis: {}
      - analysis:
      - weight: -1
`, []wantErr{
			{"strategy.canary.steps[1]", 10, "exactly one of weight, pause, analysis"},
			{"strategy.canary.steps[1].weight", 10, "10 is less than the previous weight 50"},
			{"strategy.canary.steps[2].weight", 11, "20 is less than the previous weight 50"},
			{"strategy.canary.steps[3]", 12, "exactly one of weight, pause, analysis"},
			{"strategy.canary.steps[4].weight", 13, "101 is not between 0 and 100"},
			{"strategy.canary.steps[5].pause", 14, "negative"},
			{"strategy.canary.steps[6]", 15, "exactly one of weight, pause, analysis"},
			{"strategy.canary.steps[7].analysis.duration", 16, "greater than 0"},
			{"strategy.canary.steps[8].analysis.duration", 17, "greater than 0"},
			{"strategy.canary.steps[9].weight", 18, "-1 is not between 0 and 100"},
		}},
		{"canary baseline weight above 50", base + "strategy:\n  canary:\n    baseline: true\n    steps: [weight: 50, weight: 60, weight: 100]\n",
			[]wantErr{{"strategy.canary.steps[1].weight", 9, "60 is above 50"}}},
		{"canary baseline weights up to 50 and 100 ok", base + "strategy:\n  canary:\n    baseline: true\n    steps: [weight: 10, weight: 50, weight: 100]\n", nil},
		{"canary without baseline may go above 50", base + "strategy:\n  canary:\n    baseline: false\n    steps: [weight: 60]\n", nil},
		{"canary equal weights ok", base + "strategy:\n  canary:\n    steps: [weight: 10, weight: 10, pause: {}, weight: 100]\n", nil},
		{"canary analysis without metric", base + `strategy:
  canary:
    steps:
      - weight: 5
      - analysis: {duration: 1m}
    analysis:
      errors: false
      latency: false
`, []wantErr{{"strategy.canary.steps[1].analysis", 10, "has no metric to judge by"}}},
		{"canary no metric without analysis step ok", base + "strategy:\n  canary:\n    steps: [weight: 5]\n    analysis: {errors: false, latency: false}\n", nil},
		{"canary absolute limit is a metric", base + "strategy:\n  canary:\n    steps: [analysis: {duration: 1m}]\n    analysis: {errors: false, latency: false, max_p99: 1s}\n", nil},
		{"canary analysis values", base + `strategy:
  canary:
    steps: [weight: 5]
    analysis:
      alpha: 0.6
      max_error_rate: 1.5
      max_p99: -1s
      min_requests: 0
      target_requests: -1
      inconclusive: retry
      latency_tolerance: -0.1
`, []wantErr{
			{"strategy.canary.analysis.alpha", 10, "0.6 is outside (0, 0.5]"},
			{"strategy.canary.analysis.max_error_rate", 11, "1.5 is outside [0, 1]"},
			{"strategy.canary.analysis.max_p99", 12, "negative"},
			{"strategy.canary.analysis.min_requests", 13, "at least 1"},
			{"strategy.canary.analysis.target_requests", 14, "negative"},
			{"strategy.canary.analysis.inconclusive", 15, "pause, fail, pass"},
			{"strategy.canary.analysis.latency_tolerance", 16, "-0.1 is outside [0, 10]"},
		}},
		{"canary alpha zero", base + "strategy:\n  canary:\n    steps: [weight: 5]\n    analysis: {alpha: 0}\n",
			[]wantErr{{"strategy.canary.analysis.alpha", 9, "0 is outside (0, 0.5]"}}},
		{"canary alpha half ok", base + "strategy:\n  canary:\n    steps: [weight: 5]\n    analysis: {alpha: 0.5, max_error_rate: 0}\n", nil},
		{"canary alpha not a number", base + "strategy:\n  canary:\n    steps: [weight: 5]\n    analysis: {alpha: low}\n",
			[]wantErr{{"strategy.canary.analysis.alpha", 9, "must be a number"}}},
		{"canary alpha quoted", base + "strategy:\n  canary:\n    steps: [weight: 5]\n    analysis: {alpha: \"0.05\"}\n",
			[]wantErr{{"strategy.canary.analysis.alpha", 9, "must be a number"}}},
		{"canary alpha exponent ok", base + "strategy:\n  canary:\n    steps: [weight: 5]\n    analysis: {alpha: 1e-3}\n", nil},
		{"canary alpha nan", base + "strategy:\n  canary:\n    steps: [weight: 5]\n    analysis: {alpha: .nan}\n",
			[]wantErr{{"strategy.canary.analysis.alpha", 9, "finite number"}}},
		{"canary errors not bool", base + "strategy:\n  canary:\n    steps: [weight: 5]\n    analysis: {errors: 1}\n",
			[]wantErr{{"strategy.canary.analysis.errors", 9, "true or false"}}},
		{"canary routing", base + `strategy:
  canary:
    steps: [weight: 5]
    routing:
      header: "X Canary"
      cookie: "a;b"
      sticky: session
`, []wantErr{
			{"strategy.canary.routing.header", 10, "header name"},
			{"strategy.canary.routing.cookie", 11, "cookie name"},
			{"strategy.canary.routing.sticky", 12, "cookie:NAME, header:NAME or client_ip"},
		}},
		{"canary sticky forms ok", base + "strategy:\n  canary:\n    steps: [weight: 5]\n    routing: {sticky: header:X-User}\n", nil},
		{"canary sticky client_ip ok", base + "strategy:\n  canary:\n    steps: [weight: 5]\n    routing: {sticky: client_ip}\n", nil},
		{"canary sticky empty name", base + "strategy:\n  canary:\n    steps: [weight: 5]\n    routing: {sticky: \"cookie:\"}\n",
			[]wantErr{{"strategy.canary.routing.sticky", 9, "cookie:NAME"}}},
		{"hook command and timeout", base + "hooks:\n  smoke:\n    timeout: 0s\n    env: {bad-key: x}\n",
			[]wantErr{{"hooks.smoke.command", 7, "required"}, {"hooks.smoke.timeout", 8, "greater than 0"}, {"hooks.smoke.env.bad-key", 9, "invalid name"}}},
		{"stop_grace negative", base + "stop_grace: -1s\n", []wantErr{{"stop_grace", 6, "negative"}}},
		{"stop_grace too long", base + "stop_grace: 2h\n", []wantErr{{"stop_grace", 6, "at most 1h0m0s"}}},
		{"stop_grace zero ok", base + "stop_grace: 0s\n", nil},
		{"revision history", base + "revision_history_limit: 0\n", []wantErr{{"revision_history_limit", 6, "at least 1"}}},
		// Type errors, found while decoding.
		{"replicas not a number", base + "replicas: three\n", []wantErr{{"replicas", 6, "must be an integer"}}},
		{"replicas quoted", base + "replicas: \"3\"\n", []wantErr{{"replicas", 6, "must be an integer"}}},
		{"replicas huge", base + "replicas: 99999999999999999999\n", []wantErr{{"replicas", 6, "must be an integer"}}},
		{"duration bare integer", base + "stop_grace: 30\n", []wantErr{{"stop_grace", 6, "has no unit"}}},
		{"duration garbage", base + "stop_grace: soon\n", []wantErr{{"stop_grace", 6, "invalid duration"}}},
		{"int or percent garbage", base + "strategy:\n  rolling:\n    max_surge: lots\n", []wantErr{{"strategy.rolling.max_surge", 8, "percentage"}}},
		{"bool not bool", base + "strategy:\n  blue_green:\n    manual_approval: sure\n", []wantErr{{"strategy.blue_green.manual_approval", 8, "true or false"}}},
		{"args not a list", strings.Replace(base, "  command: ./web\n", "  command: ./web\n  args: -v\n", 1), []wantErr{{"run.args", 4, "must be a list"}}},
		{"command a number", strings.Replace(base, "command: ./web", "command: 42", 1), []wantErr{{"run.command", 3, "must be a string"}}},
		{"env a list", strings.Replace(base, "  command: ./web\n", "  command: ./web\n  env: [A=b]\n", 1), []wantErr{{"run.env", 4, "mapping"}}},
		{"env value a mapping", strings.Replace(base, "  command: ./web\n", "  command: ./web\n  env:\n    A: {b: c}\n", 1), []wantErr{{"run.env.A", 5, "must be a string"}}},
		{"section a scalar", base + "probes: yes\n", []wantErr{{"probes", 6, "mapping of fields"}}},
		{"tcp takes no fields", base + "probes:\n  readiness:\n    tcp: {port: 80}\n", []wantErr{{"probes.readiness.tcp.port", 8, "takes no fields"}}},
		{"unknown top-level field", base + "replica: 2\n", []wantErr{{"replica", 6, `did you mean "replicas"`}}},
		{"strategy type is derived", base + "strategy:\n  type: rolling\n", []wantErr{{"strategy.type", 7, "unknown field"}}},
		{"merge key", base + "hooks:\n  smoke:\n    <<: {command: x}\n", []wantErr{{"hooks.smoke.command", 7, "required"}, {"hooks.smoke", 8, "merge keys"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "")
			var got []wantErr
			if err != nil {
				for _, e := range fieldErrors(t, err) {
					got = append(got, wantErr{e.Path, e.Line, e.Message})
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Parse(%q) errors:\n%v\nwant %d: %v", tc.doc, err, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.path != w.path || g.line != w.line || !strings.Contains(g.msg, w.msg) {
					t.Errorf("Parse(%q) error %d = %s (line %d): %s\nwant %s (line %d) containing %q",
						tc.doc, i, g.path, g.line, g.msg, w.path, w.line, w.msg)
				}
			}
		})
	}
}

func TestValidateWithoutPositions(t *testing.T) {
	s := &Service{Name: "web", Run: Run{Command: "x"}, Route: Route{Listen: ":80"}}
	Default(s)
	if errs := Validate(s); len(errs) != 0 {
		t.Fatalf("Validate(defaulted minimal service) = %v, want none", errs)
	}
	s.Replicas = 0
	s.Strategy.Canary = &Canary{Steps: []CanaryStep{{Weight: ptr(100)}}, ProgressDeadline: sec(1),
		Analysis: CanaryAnalysis{Alpha: 0.05, MinRequests: 100, Inconclusive: InconclusivePause}}
	var got []string
	for _, e := range Validate(s) {
		got = append(got, e.Error())
	}
	want := []string{
		"replicas: must be at least 1",
		"strategy: set only one of rolling, blue_green, recreate, canary (found rolling and canary)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Validate errors (-want +got):\n%s", diff)
	}
	s.Strategy = Strategy{Type: TypeCanary, Rolling: &Rolling{MaxSurge: DefaultMaxSurge, ProgressDeadline: sec(1), OnFailure: "pause"}}
	s.Replicas = 1
	if errs := Validate(s); len(errs) != 1 || errs[0].Path != "strategy" || !strings.Contains(errs[0].Message, "does not match") {
		t.Errorf("Validate(type canary with rolling set) = %v, want one strategy error \"does not match\"", errs)
	}
}
