package flags

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRolloutFor(t *testing.T) {
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	f := Flag{Key: "f", Type: Boolean, Variants: map[string]any{"yes": true, "no": false}, DefaultVariant: "no"}
	running := f
	running.Rollout = &Rollout{Variant: "yes", Steps: []Step{{At: now.Add(-time.Hour), Percent: 20}}}
	step := func(min int, p float64) Step {
		return Step{At: now.Add(time.Duration(min) * time.Minute), Percent: p}
	}
	tests := []struct {
		name string
		f    Flag
		req  RolloutRequest
		want []Step
		err  string
	}{
		{"at once", f, RolloutRequest{To: 10}, []Step{step(0, 10)}, ""},
		{"schedule from zero", f, RolloutRequest{To: 25, Every: "10m", Step: 10}, []Step{step(0, 10), step(10, 20), step(20, 25)}, ""},
		{"schedule from the current share", running, RolloutRequest{To: 50, Every: "5m", Step: 15}, []Step{step(0, 35), step(5, 50)}, ""},
		{"lower at once", running, RolloutRequest{To: 5, Every: "5m", Step: 15}, []Step{step(0, 5)}, ""},
		{"step without every", f, RolloutRequest{To: 5, Step: 1}, nil, "--step needs --every"},
		{"bad every", f, RolloutRequest{To: 5, Every: "soon", Step: 1}, nil, "--every"},
		{"over 100", f, RolloutRequest{To: 101}, nil, "0 to 100"},
		{"unknown variant", f, RolloutRequest{To: 5, Variant: "maybe"}, nil, "not one of"},
		{"too many steps", f, RolloutRequest{To: 100, Every: "1s", Step: 0.01}, nil, "more than"},
	}
	for _, tt := range tests {
		r, err := rolloutFor(tt.f, tt.req, now)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrBadRequest) {
				t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if r.Variant != "yes" {
			t.Errorf("%s: variant %q, want the true one, yes", tt.name, r.Variant)
		}
		if diff := cmp.Diff(r.Steps, tt.want); diff != "" {
			t.Errorf("%s: steps (-got +want):\n%s", tt.name, diff)
		}
	}
}
