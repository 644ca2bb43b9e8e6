package daemon

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
)

// TestHooksGateTheDeployment: a failing pre_deploy hook stops a deployment before any
// instance starts; a failing smoke hook keeps green from ever getting traffic; a passing one
// sees the new revision at TARGET_URL.
func TestHooksGateTheDeployment(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	first := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1"})
	h.wait(first.ID, 30*time.Second)
	bg := "blue_green: {scale_down_delay: 0s}\n"

	pre := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2", Strategy: bg,
		Extra: "hooks:\n  pre_deploy: {command: sh, args: [-c, 'echo config broken; exit 3'], timeout: 5s}\n"})
	got := h.wait(pre.ID, 30*time.Second)
	if got.Status != "failed" || !strings.Contains(got.Reason, "config broken") {
		t.Errorf("pre_deploy failure: %s %q, want failed with the hook's output", got.Status, got.Reason)
	}
	if n := countRevision(t, h, "web", got.To); n != 0 {
		t.Errorf("%d instances of the new revision started after a failed pre_deploy hook", n)
	}

	smoke := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v3", Strategy: bg,
		Extra: "hooks:\n  smoke: {command: sh, args: [-c, 'echo smoke saw $TARGET_URL; exit 1'], timeout: 5s}\n"})
	got = h.wait(smoke.ID, 30*time.Second)
	if got.Status != "rolled_back" || !strings.Contains(got.Reason, "smoke saw http://127.0.0.1:") {
		t.Errorf("smoke failure: %s %q, want rolled_back with the hook's output naming TARGET_URL", got.Status, got.Reason)
	}
	assertServes(t, listen, "v1")

	ok := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v4", Strategy: bg,
		Extra: "hooks:\n  smoke: {command: sh, args: [-c, 'test -n \"$TARGET_URL\"'], timeout: 5s}\n"})
	if got := h.wait(ok.ID, 30*time.Second); got.Status != "succeeded" {
		t.Errorf("passing smoke: %s %q", got.Status, got.Reason)
	}
	assertServes(t, listen, "v4")
}

// TestLivenessFailureRestartsInstance: an instance failing its liveness probe is restarted.
func TestLivenessFailureRestartsInstance(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1, Probes: `probes:
  readiness: {http: {path: /healthz}, period: 100ms}
  liveness: {exec: {command: [sh, -c, 'exit 1']}, initial_delay: 300ms, period: 100ms, failure_threshold: 2}
`})
	waitFor(t, 30*time.Second, "a liveness restart", func() bool {
		evs, err := h.client.Events(context.Background(), api.EventQuery{Service: "web"}, 0)
		if err != nil {
			return false
		}
		for _, e := range evs {
			if e.Type == "instance_restarted" && strings.Contains(e.Message, "liveness") {
				return true
			}
		}
		return false
	})
	waitFor(t, 30*time.Second, "the runtime counting the restart", func() bool {
		svc, err := h.client.Service(context.Background(), "web")
		return err == nil && len(svc.Instances) == 1 && svc.Instances[0].Restarts > 0
	})
}

// TestRevisionHistoryLimit keeps only the newest revisions (and the stable one).
func TestRevisionHistoryLimit(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		dep := h.deploy(appSpec{Name: "web", Listen: listen, Version: v, Replicas: 1, Extra: "revision_history_limit: 2\n"})
		if got := h.wait(dep.ID, 30*time.Second); got.Status != "succeeded" {
			t.Fatalf("deploy %s: %s %s", v, got.Status, got.Reason)
		}
	}
	// Revisions whose instances are still stopping are kept until they are gone.
	var nums []int
	waitFor(t, 15*time.Second, "history trimmed to [4 3]", func() bool {
		revs, err := h.client.History(context.Background(), "web")
		if err != nil {
			return false
		}
		nums = nums[:0]
		for _, r := range revs {
			nums = append(nums, r.Number)
		}
		return len(nums) == 2 && nums[0] == 4 && nums[1] == 3
	})
	if _, err := h.client.Rollback(context.Background(), "web", api.RollbackRequest{To: 1}); !isErr(err, api.ErrNotFound) {
		t.Errorf("rollback to a pruned revision: %v, want not found", err)
	}
}

func countRevision(t *testing.T, h *harness, service string, rev int) int {
	t.Helper()
	svc, err := h.client.Service(context.Background(), service)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range svc.Instances {
		if in.Revision == rev {
			n++
		}
	}
	return n
}

// TestBlueGreenPreviewAndApproval: before the switch, green is reachable only through the
// preview header and the preview listener; `promote` approves the switch.
func TestBlueGreenPreviewAndApproval(t *testing.T) {
	h := newHarness(t)
	listen, preview := freeAddr(t), freeAddr(t)
	first := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1"})
	h.wait(first.ID, 30*time.Second)
	dep := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2",
		Strategy: "blue_green: {preview_header: X-Preview, preview_listen: " + preview + ", manual_approval: true}\n"})
	waitFor(t, 30*time.Second, "awaiting approval", func() bool {
		d, err := h.client.Deployment(context.Background(), dep.ID)
		return err == nil && d.Phase == "awaiting approval"
	})
	for range 10 {
		if v := versionOf(t, "http://"+listen+"/", nil); v != "v1" {
			t.Fatalf("plain request before the switch served by %s, want v1", v)
		}
		if v := versionOf(t, "http://"+listen+"/", map[string]string{"X-Preview": "1"}); v != "v2" {
			t.Fatalf("preview header before the switch served by %s, want v2", v)
		}
		if v := versionOf(t, "http://"+preview+"/", nil); v != "v2" {
			t.Fatalf("preview listener before the switch served by %s, want v2", v)
		}
	}
	if _, err := h.client.Promote(context.Background(), "web", false); err != nil {
		t.Fatalf("promote: %v", err)
	}
	if got := h.wait(dep.ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("after promote: %s %s", got.Status, got.Reason)
	}
	assertServes(t, listen, "v2")
	metrics := getMetrics(t, h)
	for _, want := range []string{`cutover_requests_total{`, `revision="1"`, `revision="2"`, `service="web"`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func versionOf(t *testing.T, url string, headers map[string]string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.Header.Get("X-Version")
}

func getMetrics(t *testing.T, h *harness) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+h.d.Addr()+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+h.d.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestRollbackSkipsRevisionsThatNeverServed: a plain rollback returns to the revision that
// served before, not to a newer one whose deployment failed.
func TestRollbackSkipsRevisionsThatNeverServed(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	for _, v := range []struct {
		version string
		env     map[string]string
		want    string
	}{
		{"v1", nil, "succeeded"},
		{"v2", map[string]string{"NEVER_READY": "1"}, "rolled_back"},
		{"v3", nil, "succeeded"},
	} {
		dep := h.deploy(appSpec{Name: "web", Listen: listen, Version: v.version, Replicas: 1, Env: v.env,
			Strategy: "rolling: {progress_deadline: 1s}\n"})
		if got := h.wait(dep.ID, 30*time.Second); got.Status != v.want {
			t.Fatalf("deploy %s: %s %s, want %s", v.version, got.Status, got.Reason, v.want)
		}
	}
	rb, err := h.client.Rollback(context.Background(), "web", api.RollbackRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.wait(rb.ID, 30*time.Second); got.Status != "succeeded" || got.To != 1 {
		t.Fatalf("rollback: %s to revision %d, want succeeded to revision 1", got.Status, got.To)
	}
	assertServes(t, listen, "v1")
}
