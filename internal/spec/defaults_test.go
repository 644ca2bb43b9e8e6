package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultsOnlyWhereAbsent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra string
		get   func(*Service) any
		want  any
	}{
		{"replicas absent", "", func(s *Service) any { return s.Replicas }, 1},
		{"stop_grace absent", "", func(s *Service) any { return s.StopGrace }, sec(30)},
		{"stop_grace explicit zero", "stop_grace: 0s\n", func(s *Service) any { return s.StopGrace }, Duration(0)},
		{"stop_grace null is absent", "stop_grace:\n", func(s *Service) any { return s.StopGrace }, sec(30)},
		{"max_surge absent", "strategy:\n  rolling:\n    max_unavailable: 1\n",
			func(s *Service) any { return s.Strategy.Rolling.MaxSurge }, IntOrPercent{Value: 25, Percent: true}},
		{"max_surge explicit zero", "strategy:\n  rolling:\n    max_surge: 0\n    max_unavailable: 1\n",
			func(s *Service) any { return s.Strategy.Rolling.MaxSurge }, IntOrPercent{}},
		{"scale_down_delay absent", "strategy:\n  blue_green: {}\n",
			func(s *Service) any { return s.Strategy.BlueGreen.ScaleDownDelay }, sec(30)},
		{"scale_down_delay explicit zero", "strategy:\n  blue_green: {scale_down_delay: 0s}\n",
			func(s *Service) any { return s.Strategy.BlueGreen.ScaleDownDelay }, Duration(0)},
		{"hook timeout", "hooks:\n  pre_deploy: {command: x}\n",
			func(s *Service) any { return s.Hooks.PreDeploy.Timeout }, sec(300)},
		{"recreate deadline", "strategy:\n  recreate:\n",
			func(s *Service) any { return s.Strategy.Recreate.ProgressDeadline }, sec(600)},
		{"canary deadline", "strategy:\n  canary: {steps: [weight: 100]}\n",
			func(s *Service) any { return s.Strategy.Canary.ProgressDeadline }, sec(600)},
		{"canary analysis absent", "strategy:\n  canary: {steps: [weight: 100]}\n",
			func(s *Service) any { return s.Strategy.Canary.Analysis },
			CanaryAnalysis{Alpha: 0.05, Errors: ptr(true), Latency: ptr(true), MinRequests: 100, Inconclusive: "pause"}},
		{"canary analysis explicit values kept", "strategy:\n  canary:\n    steps: [weight: 100]\n    analysis: {errors: false, latency:, min_requests: 5, max_error_rate: 0}\n",
			func(s *Service) any { return s.Strategy.Canary.Analysis },
			CanaryAnalysis{Alpha: 0.05, Errors: ptr(false), Latency: ptr(true), MaxErrorRate: ptr(0.0), MinRequests: 5, Inconclusive: "pause"}},
		{"canary routing absent", "strategy:\n  canary: {steps: [weight: 100]}\n",
			func(s *Service) any { return s.Strategy.Canary.Routing }, CanaryRouting{}},
		{"explicit paths kept", "  paths: [/api/]\n", func(s *Service) any { return s.Route.Paths }, []string{"/api/"}},
		{"liveness only: no readiness added", "probes:\n  liveness: {tcp: {}}\n",
			func(s *Service) any { return s.Probes.Readiness == nil && s.Probes.Liveness.FailureThreshold == 3 }, true},
		{"empty probes: tcp readiness", "probes: {}\n",
			func(s *Service) any { return s.Probes.Readiness.TCP != nil }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, []byte(base+tc.extra))
			if diff := cmp.Diff(tc.want, tc.get(s)); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", base+tc.extra, diff)
			}
		})
	}
}

func TestDefaultIsIdempotentAndMatchesParse(t *testing.T) {
	s := &Service{Name: "web", Run: Run{Command: "./web"}, Route: Route{Listen: ":8080"}}
	Default(s)
	once := *s
	Default(s)
	if diff := cmp.Diff(&once, s); diff != "" {
		t.Errorf("second Default changed the spec (-first +second):\n%s", diff)
	}
	parsed := mustParse(t, readTestdata(t, "minimal.yaml"))
	if diff := cmp.Diff(parsed, s); diff != "" {
		t.Errorf("Default differs from Parse of the same minimal spec (-parse +default):\n%s", diff)
	}
}

func TestDefaultFillsCanary(t *testing.T) {
	s := &Service{Strategy: Strategy{Canary: &Canary{Steps: []CanaryStep{{Weight: ptr(100)}}}}}
	Default(s)
	want := Strategy{Type: TypeCanary, Canary: &Canary{
		Steps:            []CanaryStep{{Weight: ptr(100)}},
		Analysis:         CanaryAnalysis{Alpha: 0.05, Errors: ptr(true), Latency: ptr(true), MinRequests: 100, Inconclusive: "pause"},
		ProgressDeadline: sec(600),
	}}
	if diff := cmp.Diff(want, s.Strategy); diff != "" {
		t.Errorf("Default(canary) strategy (-want +got):\n%s", diff)
	}
}

func TestDefaultFillsChosenStrategy(t *testing.T) {
	s := &Service{Strategy: Strategy{BlueGreen: &BlueGreen{}}}
	Default(s)
	want := Strategy{Type: TypeBlueGreen, BlueGreen: &BlueGreen{ScaleDownDelay: sec(30), ProgressDeadline: sec(600)}}
	if diff := cmp.Diff(want, s.Strategy); diff != "" {
		t.Errorf("Default(blue_green) strategy (-want +got):\n%s", diff)
	}
}
