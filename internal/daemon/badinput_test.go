package daemon

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
)

// TestBadInputChangesNothing sends each kind of bad request and checks the error and that
// the daemon's state (revisions, deployments, services) is what it was.
func TestBadInputChangesNothing(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	listen := freeAddr(t)
	first := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1})
	h.wait(first.ID, 30*time.Second)
	good := h.yaml(appSpec{Name: "web", Listen: listen, Version: "v2", Replicas: 1})

	cases := []struct {
		name    string
		req     api.DeployRequest
		want    error
		message string
	}{
		{"malformed yaml", api.DeployRequest{Service: "web", Spec: "name: web\nrun: [unclosed\n"}, api.ErrInvalid, "line"},
		{"unknown field", api.DeployRequest{Service: "web", Spec: good + "colour: blue\n"}, api.ErrInvalid, "colour"},
		{"zero replicas", api.DeployRequest{Service: "web", Spec: strings.Replace(good, "replicas: 1", "replicas: 0", 1)}, api.ErrInvalid, "replicas"},
		{"negative replicas", api.DeployRequest{Service: "web", Spec: strings.Replace(good, "replicas: 1", "replicas: -2", 1)}, api.ErrInvalid, "replicas"},
		{"port out of range", api.DeployRequest{Service: "web", Spec: strings.Replace(good, listen, "127.0.0.1:70000", 1)}, api.ErrInvalid, "route.listen"},
		{"missing command", api.DeployRequest{Service: "web", Spec: strings.Replace(good, h.app, "/nonexistent/app", 1)}, api.ErrInvalid, "run.command"},
		{"route owned by another service", api.DeployRequest{Service: "api", Spec: strings.Replace(good, "name: web", "name: api", 1)}, api.ErrConflict, "owned by service web"},
		{"name mismatch", api.DeployRequest{Service: "other", Spec: good}, api.ErrInvalid, "name"},
		{"unknown service without spec", api.DeployRequest{Service: "ghost"}, api.ErrInvalid, "never been deployed"},
		{"bad override", api.DeployRequest{Service: "web", Set: []string{"nosuch.field=1"}}, api.ErrInvalid, "nosuch"},
	}
	before := snapshot(t, h)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := h.client.Deploy(ctx, c.req)
			if err == nil {
				t.Fatalf("deploy accepted, want an error")
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %q; want %v mentioning %q", err, c.want, c.message)
			}
			if got := snapshot(t, h); got != before {
				t.Errorf("state changed:\n got %s\nwant %s", got, before)
			}
		})
	}

	t.Run("unknown service", func(t *testing.T) {
		if _, err := h.client.Service(ctx, "ghost"); !errors.Is(err, api.ErrNotFound) {
			t.Errorf("status of unknown service: %v, want not found", err)
		}
		if _, err := h.client.Rollback(ctx, "ghost", api.RollbackRequest{}); !errors.Is(err, api.ErrNotFound) {
			t.Errorf("rollback of unknown service: %v, want not found", err)
		}
	})

	t.Run("second deploy while one runs", func(t *testing.T) {
		slow := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v3", Replicas: 1, Env: map[string]string{"STARTUP_DELAY": "2s"}})
		_, err := h.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: good})
		if !errors.Is(err, api.ErrConflict) || !strings.Contains(err.Error(), "deployment") {
			t.Errorf("second deploy: %v, want a conflict naming the running deployment", err)
		}
		if got := h.wait(slow.ID, 30*time.Second); got.Status != "succeeded" {
			t.Errorf("the running deployment: %s %s", got.Status, got.Reason)
		}
	})

	t.Run("token", func(t *testing.T) {
		for name, token := range map[string]string{"none": "", "wrong": "not-the-token"} {
			req, _ := http.NewRequest("GET", "http://"+h.d.Addr()+"/v1/services", nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s token: status %d, want 401", name, resp.StatusCode)
			}
		}
	})
}

// snapshot summarises the daemon's recorded state for before/after comparisons.
func snapshot(t *testing.T, h *harness) string {
	t.Helper()
	ctx := context.Background()
	svcs, err := h.client.Services(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range svcs {
		revs, err := h.client.History(ctx, s.Name)
		if err != nil {
			t.Fatal(err)
		}
		deps, err := h.client.Deployments(ctx, s.Name, 100)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(s.Name + ":stable=" + itoa(s.Stable) + ",revisions=" + itoa(len(revs)) + ",deployments=" + itoa(len(deps)) + ";")
	}
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }
