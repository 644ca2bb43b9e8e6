package analysis

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // "field: message", in order
	}{
		{name: "zero value takes defaults", cfg: Config{}},
		{name: "alpha at 0.5", cfg: Config{Alpha: 0.5}},
		{name: "max_error_rate 0 and 1", cfg: Config{MaxErrorRate: ptr(0.0)}},
		{name: "full", cfg: Config{Alpha: 0.01, MinRequests: 50, TargetRequests: 5000, MaxErrorRate: ptr(1.0),
			MaxP99: time.Second, LatencyQuantile: 0.95, LatencyBurnIn: 10, LatencyBounds: []time.Duration{1, 2}}},
		{name: "alpha negative", cfg: Config{Alpha: -0.1}, want: []string{"alpha: must be in (0, 0.5], got -0.1"}},
		{name: "alpha above 0.5", cfg: Config{Alpha: 0.6}, want: []string{"alpha: must be in (0, 0.5], got 0.6"}},
		{name: "max_error_rate above 1", cfg: Config{MaxErrorRate: ptr(1.5)}, want: []string{"max_error_rate: must be in [0, 1], got 1.5"}},
		{name: "max_error_rate negative", cfg: Config{MaxErrorRate: ptr(-0.01)}, want: []string{"max_error_rate: must be in [0, 1], got -0.01"}},
		{name: "max_p99 negative", cfg: Config{MaxP99: -time.Second}, want: []string{"max_p99: must be positive, got -1s"}},
		{name: "latency_quantile 1", cfg: Config{LatencyQuantile: 1}, want: []string{"latency_quantile: must be in (0, 1), got 1"}},
		{name: "bounds not increasing", cfg: Config{LatencyBounds: []time.Duration{2, 2}},
			want: []string{"latency_bounds: must be positive and strictly increasing, got 2ns at index 1"}},
		{name: "bounds empty", cfg: Config{LatencyBounds: []time.Duration{}}, want: []string{"latency_bounds: must not be empty"}},
		{name: "every field at once", cfg: Config{Alpha: 2, MinRequests: -1, TargetRequests: -2, LatencyBurnIn: -3},
			want: []string{"alpha: must be in (0, 0.5], got 2", "min_requests: must not be negative, got -1",
				"target_requests: must not be negative, got -2", "latency_burn_in: must not be negative, got -3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			var got []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var fe *FieldError
					if !errors.As(e, &fe) {
						t.Fatalf("Validate(%+v): %v is not a *FieldError", tt.cfg, e)
					}
					got = append(got, fe.Field+": "+fe.Message)
				}
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("Validate(%+v) errors (-got +want):\n%s", tt.cfg, diff)
			}
			j, nerr := New(tt.cfg)
			if (nerr != nil) != (tt.want != nil) || (nerr == nil && j == nil) {
				t.Errorf("New(%+v) = %v, %v; want an error: %v", tt.cfg, j, nerr, tt.want != nil)
			}
		})
	}
}

func TestFieldErrorMessage(t *testing.T) {
	err := Config{Alpha: 0.7}.Validate()
	if got, want := err.Error(), "analysis: alpha: must be in (0, 0.5], got 0.7"; got != want {
		t.Errorf("Validate().Error() = %q, want %q", got, want)
	}
}
