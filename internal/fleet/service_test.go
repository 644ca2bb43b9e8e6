package fleet

import (
	"testing"

	"github.com/cutover/cutover/internal/runtime"
)

// TestDockerHealthGatesServing: an instance whose probes pass is not served while the
// runtime reports its container unhealthy or starting.
func TestDockerHealthGatesServing(t *testing.T) {
	for _, tc := range []struct {
		health runtime.Health
		want   bool
	}{{runtime.HealthUnknown, true}, {runtime.HealthHealthy, true}, {runtime.HealthStarting, false}, {runtime.HealthUnhealthy, false}} {
		in := &instance{ready: true, status: runtime.Status{State: runtime.StateRunning, Addr: "127.0.0.1:1", Health: tc.health}}
		if got := in.serving(); got != tc.want {
			t.Errorf("serving with health %q = %v, want %v", tc.health, got, tc.want)
		}
	}
}
