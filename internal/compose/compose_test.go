package compose

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/spec"
)

func d(s string) spec.Duration {
	v, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return spec.Duration(v)
}

// route is a route with the spec's defaults.
func route(listen string, hosts ...string) spec.Route {
	return spec.Route{Listen: listen, Hosts: hosts, Paths: []string{"/"}, Balance: "least_requests",
		Timeout: d("30s"), DrainTimeout: d("30s")}
}

// tcpReadiness is a TCP readiness probe with the given period, timeout and failure threshold.
func tcpReadiness(period, timeout string, failures int) spec.Probes {
	return spec.Probes{Readiness: &spec.Probe{TCP: &spec.TCPProbe{}, Period: d(period), Timeout: d(timeout),
		SuccessThreshold: 1, FailureThreshold: failures}}
}

func load(t *testing.T, files []string, services []string, opts Options) *Project {
	t.Helper()
	p, err := Load(context.Background(), files, services, opts)
	if err != nil {
		t.Fatalf("Load(%v): %v", files, err)
	}
	return p
}

func TestLoadMapsHealthcheckUpdateConfigDependsOnResources(t *testing.T) {
	got := load(t, []string{"testdata/full/compose.yaml"}, nil, Options{})
	want := &Project{Name: "shop", Services: []Import{
		{
			Spec: spec.Service{
				Name: "api",
				Run: spec.Run{Image: "registry.example.com/shop/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
					Container: &spec.Container{Port: 9000, Healthcheck: &spec.Healthcheck{Test: []string{"NONE"}},
						Networks: []spec.Network{{Name: "shop_default", Aliases: []string{"api"}}}}},
				Replicas: 1,
				Probes:   tcpReadiness("1s", "1s", 3), // healthcheck disabled: cutover's default probe
				Route:    route("0.0.0.0:9090"),
				Strategy: spec.Strategy{Type: spec.TypeRolling, Rolling: &spec.Rolling{
					MaxSurge: spec.IntOrPercent{Value: 0}, MaxUnavailable: spec.IntOrPercent{Value: 1},
					ProgressDeadline: d("10m"), OnFailure: "rollback"}},
				StopGrace:            d("30s"),
				RevisionHistoryLimit: 10,
			},
		},
		{
			Spec: spec.Service{
				Name: "web",
				Run: spec.Run{
					Command: "/app/web", Args: []string{"--log", "json"}, Dir: "/app",
					Image: "registry.example.com/shop/web:1.4.2",
					// PORT=8000 is the target port: the runtime sets it.
					Env: map[string]string{"LOG_LEVEL": "info", "API_URL": "http://127.0.0.1:9090",
						"SESSION_SECRET": "s3cr3t", "FEATURE_X": "on"},
					Container: &spec.Container{
						Port: 8000, User: "1000:1000", Memory: "268435456", CPUs: 0.5, ReadOnly: true,
						Healthcheck: &spec.Healthcheck{Test: []string{"CMD", "/app/web", "health"}, Interval: d("5s"),
							Timeout: d("2s"), StartPeriod: d("20s"), Retries: 4},
						Networks: []spec.Network{{Name: "shop_default", Aliases: []string{"web"}}},
					},
				},
				Replicas: 3,
				Probes:   tcpReadiness("5s", "2s", 4),
				Route:    route("127.0.0.1:8080"),
				Strategy: spec.Strategy{Type: spec.TypeRolling, Rolling: &spec.Rolling{
					MaxSurge: spec.IntOrPercent{Value: 2}, MaxUnavailable: spec.IntOrPercent{Value: 0},
					MinReady: d("15s"), ProgressDeadline: d("10m"), OnFailure: "pause"}},
				StopGrace:            d("45s"),
				RevisionHistoryLimit: 10,
			},
			Warnings:  []string{"service web: healthcheck.start_interval is ignored: Docker probes at interval from the start"},
			DependsOn: []Dependency{{Service: "api", Condition: ConditionHealthy}},
		},
	}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Load(full) (-got +want):\n%s", diff)
	}
}

func TestLoadWarnsAboutEveryUnsupportedKey(t *testing.T) {
	got := load(t, []string{"testdata/unsupported/compose.yaml"}, nil, Options{})
	want := map[string][]string{
		"migrate": nil,
		"web": {
			"service web: build is ignored: cutover runs images and does not build them",
			"service web: cap_add is not supported by cutover and is ignored",
			"service web: configs is not supported by cutover and is ignored",
			"service web: container_name (shop-web) is not supported by cutover and is ignored",
			"service web: depends_on.migrate.restart (true) is ignored: cutover does not restart dependents when a dependency restarts",
			"service web: deploy.resources.reservations is not supported by cutover and is ignored",
			"service web: deploy.restart_policy is not supported by cutover and is ignored",
			"service web: devices is not supported by cutover and is ignored",
			"service web: labels is not supported by cutover and is ignored",
			"service web: logging is not supported by cutover and is ignored",
			"service web: ports[].protocol (udp) is ignored: only TCP is routed; this port is not",
			"service web: privileged (true) is not supported by cutover and is ignored",
			"service web: restart (always) is ignored: cutover restarts crashed instances itself",
			"service web: ports[1] (published 8443, target 8443) is not routed: cutover routes the first port only",
			"service web: deploy.update_config.failure_action continue is not supported: a failed update is rolled back",
			"service web: deploy.update_config.max_failure_ratio 0.2 is ignored: one instance that does not become ready fails the update",
			"service web: deploy.rollback_config.parallelism 2 is ignored: cutover rolls back with the service's own strategy",
			"service web: deploy.rollback_config.order start-first is ignored: cutover rolls back with the service's own strategy",
			"service web: stop_signal SIGINT is ignored: cutover stops instances with SIGTERM",
			"service web: depends_on migrate condition service_completed_successfully is not supported: cutover waits for migrate to be started",
		},
	}
	gotWarnings := map[string][]string{}
	for _, imp := range got.Services {
		gotWarnings[imp.Spec.Name] = imp.Warnings
	}
	if diff := cmp.Diff(gotWarnings, want); diff != "" {
		t.Errorf("service warnings (-got +want):\n%s", diff)
	}
	wantProject := []string{
		"configs is not supported by cutover and is ignored",
		"testdata/unsupported/compose.yaml: version is obsolete and ignored",
	}
	if diff := cmp.Diff(got.Warnings, wantProject); diff != "" {
		t.Errorf("project warnings (-got +want):\n%s", diff)
	}
	web := got.Services[1]
	if want := []Dependency{{Service: "migrate", Condition: ConditionStarted}}; !cmp.Equal(web.DependsOn, want) {
		t.Errorf("web depends_on = %v, want %v", web.DependsOn, want)
	}
	// Networks, volumes and secrets are mapped, under the project's names.
	abs, _ := filepath.Abs("testdata/unsupported/token.txt")
	c := web.Spec.Run.Container
	wantNets := []spec.Network{{Name: "unsupported_front", Aliases: []string{"web"}}}
	wantMounts := []spec.Mount{{Volume: "unsupported_data", Target: "/data"},
		{Source: abs, Target: "/run/secrets/token", ReadOnly: true}}
	if c == nil || !cmp.Equal(c.Networks, wantNets) || !cmp.Equal(c.Mounts, wantMounts) {
		t.Errorf("web container = %+v; want networks %v and mounts %v", c, wantNets, wantMounts)
	}
}

func TestLoadSelectedServiceDropsOtherServicesWarnings(t *testing.T) {
	got := load(t, []string{"testdata/unsupported/compose.yaml"}, []string{"migrate"}, Options{})
	if len(got.Services) != 1 || got.Services[0].Spec.Name != "migrate" {
		t.Fatalf("services = %+v, want only migrate", got.Services)
	}
	if w := got.Services[0].Warnings; len(w) != 0 {
		t.Errorf("migrate warnings = %q, want none", w)
	}
}

func TestLoadCutoverExtensionOverrides(t *testing.T) {
	got := load(t, []string{"testdata/canary/compose.yaml"}, nil, Options{})
	want := spec.Service{
		Name: "web",
		Run: spec.Run{Image: "app:2.0.0", Container: &spec.Container{Port: 8000,
			Networks: []spec.Network{{Name: "canary_default", Aliases: []string{"web"}}}}},
		Replicas: 5, // x-cutover wins over deploy.replicas
		Probes: spec.Probes{Readiness: &spec.Probe{HTTP: &spec.HTTPProbe{Path: "/healthz"}, Period: d("2s"),
			Timeout: d("1s"), SuccessThreshold: 1, FailureThreshold: 3}},
		// hosts from x-cutover, listen from ports: sections merge one level deep.
		Route: route("127.0.0.1:8080", "shop.example.com"),
		// The canary replaces the rolling strategy update_config gave.
		Strategy: spec.Strategy{Type: spec.TypeCanary, Canary: &spec.Canary{
			Steps: []spec.CanaryStep{
				{Weight: new(10)},
				{Analysis: &spec.AnalysisStep{Duration: d("2m")}},
				{Weight: new(50)},
				{Pause: new(d("30s"))},
			},
			Analysis: spec.CanaryAnalysis{Alpha: 0.05, Errors: new(true), Latency: new(true),
				MaxErrorRate: new(0.01), MaxP99: d("300ms"), MinRequests: 100, Inconclusive: "pause"},
			ProgressDeadline: d("10m"),
		}},
		StopGrace:            d("30s"),
		RevisionHistoryLimit: 10,
	}
	if diff := cmp.Diff(got.Services[0].Spec, want); diff != "" {
		t.Errorf("spec (-got +want):\n%s", diff)
	}
}

func TestLoadInterpolatesFromDotEnvAndOptions(t *testing.T) {
	opts := Options{Env: map[string]string{"MODE": "from-options", "REGION": "eu-west-1"}}
	got := load(t, []string{"testdata/dotenv/compose.yaml"}, nil, opts).Services
	if len(got) != 1 {
		t.Fatalf("got %d services, want 1", len(got))
	}
	if got[0].Spec.Run.Image != "app:1.0.1" {
		t.Errorf("image = %q, want app:1.0.1 (TAG from .env)", got[0].Spec.Run.Image)
	}
	wantEnv := map[string]string{"MODE": "from-options", "REGION": "eu-west-1"}
	if diff := cmp.Diff(got[0].Spec.Run.Env, wantEnv); diff != "" {
		t.Errorf("env (-got +want):\n%s", diff)
	}
	if got[0].Spec.Route.Listen != ":8088" {
		t.Errorf("route.listen = %q, want :8088 from x-cutover", got[0].Spec.Route.Listen)
	}
	if c := got[0].Spec.Run.Container; c == nil || c.Port != 8000 {
		t.Errorf("container = %+v, want port 8000 from expose", c)
	}
	wantWarnings := []string{
		"service web: expose 8001: only the first exposed port is used",
		"service web: environment PORT=9999 is replaced: cutover sets PORT to the container port",
	}
	if diff := cmp.Diff(got[0].Warnings, wantWarnings); diff != "" {
		t.Errorf("warnings (-got +want):\n%s", diff)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name     string
		files    []string
		services []string
		// want are lines the error must contain, in order.
		want []string
	}{
		{
			name:  "malformed YAML with its position",
			files: []string{"testdata/errors/malformed.yaml"},
			want:  []string{"testdata/errors/malformed.yaml:6:6: malformed YAML"},
		},
		{
			name:  "unknown compose key with its position",
			files: []string{"testdata/errors/unknownkey.yaml"},
			want:  []string{"testdata/errors/unknownkey.yaml:4:5: services.web.imagee is not a compose key"},
		},
		{
			name:  "x-cutover canary error at its field",
			files: []string{"testdata/errors/badcanary.yaml"},
			want: []string{"testdata/errors/badcanary.yaml:10:15: services.web.x-cutover.strategy.canary.steps[1].weight: " +
				"10 is less than the previous weight 50"},
		},
		{
			name:  "every service's errors, at the compose key, by line",
			files: []string{"testdata/errors/noport.yaml"},
			want: []string{
				`testdata/errors/noport.yaml:2:3: services.worker.ports: route.listen: required (publish a port`,
				"testdata/errors/noport.yaml:4:3: services.web.image: run.command: required (cutover runs images and does not build them: set image)",
			},
		},
		{
			name:  "service name that is not a cutover name",
			files: []string{"testdata/errors/badname.yaml"},
			want:  []string{"testdata/errors/badname.yaml:2:3: services.Web_1: name: must be a DNS label"},
		},
		{
			name:  "override file error located in the override",
			files: []string{"testdata/override/compose.yaml", "testdata/override/prod.yaml"},
			want:  []string{"testdata/override/prod.yaml:4:7: services.web.deploy.replicas: replicas: must be at least 1"},
		},
		{
			name:     "unknown service",
			files:    []string{"testdata/order/chain.yaml"},
			services: []string{"a", "nope"},
			want:     []string{"no service nope in the compose files (services: a, b, c, d)"},
		},
		{
			name:  "depends_on cycle",
			files: []string{"testdata/order/cycle.yaml"},
			want:  []string{"cycle", "a -> b -> a"},
		},
		{
			name:  "missing file",
			files: []string{"testdata/nope.yaml"},
			want:  []string{"testdata/nope.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Load(context.Background(), tt.files, tt.services, Options{})
			if err == nil {
				t.Fatalf("Load(%v) = %+v, want an error", tt.files, p)
			}
			msg := err.Error()
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("Load(%v) error:\n%s\nwant it to contain, in order:\n%s", tt.files, msg, strings.Join(tt.want, "\n"))
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestLoadSpecErrorsAreFieldErrors(t *testing.T) {
	_, err := Load(context.Background(), []string{"testdata/errors/badcanary.yaml"}, nil, Options{})
	var errs spec.Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("error %v: want spec.Errors with one error", err)
	}
	want := &spec.FieldError{File: "testdata/errors/badcanary.yaml", Line: 10, Column: 15,
		Path:    "services.web.x-cutover.strategy.canary.steps[1].weight",
		Message: "10 is less than the previous weight 50: a canary's weight never goes down"}
	if diff := cmp.Diff(errs[0], want); diff != "" {
		t.Errorf("field error (-got +want):\n%s", diff)
	}
}
