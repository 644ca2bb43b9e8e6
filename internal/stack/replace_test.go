package stack

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/runtime"
)

// recorder is a Runtime that records each call and reports the new container with status.
type recorder struct {
	calls  []string
	status runtime.Status
}

func (r *recorder) Start(_ context.Context, specs []runtime.InstanceSpec) error {
	r.calls = append(r.calls, "start "+specs[0].ID)
	return nil
}
func (r *recorder) Stop(_ context.Context, id string) error {
	r.calls = append(r.calls, "stop "+id)
	return nil
}
func (r *recorder) Restart(_ context.Context, id string) error {
	r.calls = append(r.calls, "restart "+id)
	return nil
}
func (r *recorder) Remove(_ context.Context, id string) error {
	r.calls = append(r.calls, "remove "+id)
	return nil
}
func (r *recorder) Status(context.Context, string) (runtime.Status, error) { return r.status, nil }

func TestReplaceOrder(t *testing.T) {
	healthy := runtime.Status{State: runtime.StateRunning, Health: runtime.HealthHealthy}
	unhealthy := runtime.Status{State: runtime.StateRunning, Health: runtime.HealthUnhealthy}
	cases := []struct {
		kind   Kind
		status runtime.Status
		want   string
		err    bool
	}{
		{Worker, healthy, "start new, stop old, remove old", false},
		{Worker, unhealthy, "start new, stop new, remove new", true},
		{Stateful, healthy, "stop old, start new, stop old, remove old", false},
		{Stateful, unhealthy, "stop old, start new, stop new, remove new, restart old", true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %s", c.kind, c.status.Health), func(t *testing.T) {
			r := &recorder{status: c.status}
			u := Update{Kind: c.kind, New: runtime.InstanceSpec{ID: "new", Service: "s"}, Old: []string{"old"}, Poll: time.Millisecond}
			err := Replace(context.Background(), r, u, func(string, ...any) {})
			if got := strings.Join(r.calls, ", "); got != c.want || (err != nil) != c.err {
				t.Errorf("calls %q, error %v; want %q, error %v", got, err, c.want, c.err)
			}
		})
	}
}

func TestReadiness(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name  string
		st    runtime.Status
		ready bool
		err   bool
	}{
		{"healthy", runtime.Status{State: runtime.StateRunning, Health: runtime.HealthHealthy, StartedAt: now}, true, false},
		{"health starting", runtime.Status{State: runtime.StateRunning, Health: runtime.HealthStarting, StartedAt: now.Add(-time.Hour)}, false, false},
		{"unhealthy", runtime.Status{State: runtime.StateRunning, Health: runtime.HealthUnhealthy}, false, true},
		{"ran min_ready", runtime.Status{State: runtime.StateRunning, StartedAt: now.Add(-5 * time.Second)}, true, false},
		{"not yet min_ready", runtime.Status{State: runtime.StateRunning, StartedAt: now.Add(-time.Second)}, false, false},
		{"restarted", runtime.Status{State: runtime.StateRunning, Restarts: 1, StartedAt: now.Add(-time.Hour)}, false, true},
		{"exited", runtime.Status{State: runtime.StateExited, Message: "exit status 1"}, false, true},
		{"starting", runtime.Status{State: runtime.StateStarting}, false, false},
	}
	for _, c := range cases {
		ready, err := readiness(c.st, 5*time.Second, now)
		if ready != c.ready || (err != nil) != c.err {
			t.Errorf("%s: ready %v, error %v; want %v, error %v", c.name, ready, err, c.ready, c.err)
		}
	}
}

func TestFingerprintAndInstanceID(t *testing.T) {
	s := appStack().Services[1]
	id := NewInstanceID(&s)
	if FingerprintOf("db", id) != Fingerprint(&s) || FingerprintOf("web", id) != "" {
		t.Errorf("FingerprintOf(%q) does not give the fingerprint back", id)
	}
	changed := s
	changed.Env = map[string]string{"A": "2"}
	if Fingerprint(&changed) == Fingerprint(&s) {
		t.Error("a changed environment keeps the fingerprint")
	}
	is := InstanceSpec(&s, id, 4, "sha256:built")
	if is.Image != "sha256:built" || is.Revision != 4 || is.Service != "db" {
		t.Errorf("instance spec %+v", is)
	}
}

// TestSettle: the containers an interrupted deploy left beside the current one are removed
// only once the current one is ready; when it is not, none is touched.
func TestSettle(t *testing.T) {
	healthy := runtime.Status{State: runtime.StateRunning, Health: runtime.HealthHealthy}
	unhealthy := runtime.Status{State: runtime.StateRunning, Health: runtime.HealthUnhealthy}
	for _, c := range []struct {
		status runtime.Status
		want   string
		err    bool
	}{
		{healthy, "stop old, remove old", false},
		{unhealthy, "", true},
	} {
		r := &recorder{status: c.status}
		u := Update{Kind: Stateful, New: runtime.InstanceSpec{ID: "new", Service: "s"}, Old: []string{"old"}, Poll: time.Millisecond}
		err := Settle(context.Background(), r, u, func(string, ...any) {})
		if got := strings.Join(r.calls, ", "); got != c.want || (err != nil) != c.err {
			t.Errorf("%s: calls %q, error %v; want %q, error %v", c.status.Health, got, err, c.want, c.err)
		}
	}
}
