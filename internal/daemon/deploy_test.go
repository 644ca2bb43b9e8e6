package daemon

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/loadgen"
)

// TestZeroFailedRequestsAcrossDeploys runs steady load through the proxy during a rolling
// deploy, a blue-green deploy and a rollback, and counts every failed request.
func TestZeroFailedRequestsAcrossDeploys(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	rolling := "rolling: {max_surge: 1, max_unavailable: 0}\n"
	bluegreen := "blue_green: {scale_down_delay: 1m, preview_header: X-Preview}\n"
	slowStart := map[string]string{"STARTUP_DELAY": "300ms"}
	first := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1", Strategy: rolling, Env: slowStart})
	if got := h.wait(first.ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("first deploy: %s %s", got.Status, got.Reason)
	}

	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	type result struct {
		sum loadgen.Summary
		err error
	}
	loadDone := make(chan result, 1)
	go func() {
		sum, err := loadgen.Run(ctx, loadgen.Config{URL: "http://" + listen + "/", Rate: 300, Workers: 1024, Duration: 2 * time.Minute}, nil)
		loadDone <- result{sum, err}
	}()
	time.Sleep(300 * time.Millisecond)

	second := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2", Strategy: rolling, Env: slowStart})
	if got := h.wait(second.ID, 60*time.Second); got.Status != "succeeded" {
		t.Fatalf("rolling deploy: %s %s", got.Status, got.Reason)
	}
	third := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v3", Strategy: bluegreen, Env: slowStart})
	if got := h.wait(third.ID, 60*time.Second); got.Status != "succeeded" {
		t.Fatalf("blue-green deploy: %s %s", got.Status, got.Reason)
	}
	assertServes(t, listen, "v3")
	time.Sleep(300 * time.Millisecond)
	rb, err := h.client.Rollback(context.Background(), "web", api.RollbackRequest{})
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if got := h.wait(rb.ID, 60*time.Second); got.Status != "succeeded" || got.To != 2 || got.Strategy != "switch" {
		t.Fatalf("rollback: got %+v, want a succeeded switch to revision 2", got)
	}
	assertServes(t, listen, "v2")
	time.Sleep(300 * time.Millisecond)
	stopLoad()
	res := <-loadDone
	if res.err != nil && res.err != context.Canceled {
		t.Fatalf("load: %v", res.err)
	}
	sum := res.sum
	t.Logf("load: %s", sum)
	if sum.Failed != 0 || sum.GeneratorDropped != 0 {
		t.Errorf("failed requests: %d (dropped by generator %d), errors %v, statuses %v", sum.Failed, sum.GeneratorDropped, sum.Errors, sum.ByStatus)
	}
	if sum.OK < 500 {
		t.Errorf("only %d requests succeeded; the load did not run", sum.OK)
	}
	for _, v := range []string{"v1", "v2", "v3"} {
		if sum.ByVersion[v] == 0 {
			t.Errorf("no request was served by %s: %v", v, sum.ByVersion)
		}
	}
}

// assertServes checks that 20 consecutive requests are all answered by version.
func assertServes(t *testing.T, listen, version string) {
	t.Helper()
	for i := range 20 {
		resp, err := http.Get("http://" + listen + "/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Version"); got != version {
			t.Fatalf("request %d served by %q, want %q", i, got, version)
		}
	}
}

// TestNeverReadyRevisionFailsAtProgressDeadline: no traffic reaches it, the old revision
// keeps serving, the deployment ends with the reason.
func TestNeverReadyRevisionFailsAtProgressDeadline(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	first := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1"})
	h.wait(first.ID, 30*time.Second)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	loadDone := make(chan loadgen.Summary, 1)
	go func() {
		sum, _ := loadgen.Run(ctx, loadgen.Config{URL: "http://" + listen + "/", Rate: 100, Workers: 512, Duration: time.Minute}, nil)
		loadDone <- sum
	}()
	bad := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2", Env: map[string]string{"NEVER_READY": "1"},
		Strategy: "rolling: {progress_deadline: 2s}\n"})
	got := h.wait(bad.ID, 30*time.Second)
	stop()
	sum := <-loadDone
	if got.Status != "rolled_back" || !strings.Contains(got.Reason, "progress_deadline") {
		t.Errorf("deployment: status %s reason %q, want rolled_back at progress_deadline", got.Status, got.Reason)
	}
	if sum.ByVersion["v2"] != 0 || sum.Failed != 0 {
		t.Errorf("load: %s; want no request to v2 and none failed", sum)
	}
	svc, err := h.client.Service(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	if svc.Stable != 1 {
		t.Errorf("stable revision %d, want 1", svc.Stable)
	}
	assertServes(t, listen, "v1")
}

// TestCrashLoopingRevisionIsRolledBack detects a crash loop (on boot, and after becoming
// ready within min_ready) and returns to the old revision.
func TestCrashLoopingRevisionIsRolledBack(t *testing.T) {
	cases := map[string]struct {
		env      map[string]string
		strategy string
	}{
		"crash on boot":     {map[string]string{"STARTUP_DELAY": "300ms", "EXIT_AFTER": "100ms"}, ""},
		"crash after ready": {map[string]string{"EXIT_AFTER": "600ms"}, "rolling: {min_ready: 2s}\n"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			listen := freeAddr(t)
			first := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1"})
			h.wait(first.ID, 30*time.Second)
			bad := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2", Env: c.env, Strategy: c.strategy})
			got := h.wait(bad.ID, 60*time.Second)
			if got.Status != "rolled_back" || !strings.Contains(got.Reason, "crash") {
				t.Errorf("deployment: status %s reason %q, want rolled_back for a crash loop", got.Status, got.Reason)
			}
			waitFor(t, 15*time.Second, "v2 instances stopped", func() bool {
				svc, err := h.client.Service(context.Background(), "web")
				if err != nil {
					return false
				}
				for _, in := range svc.Instances {
					if in.Revision == 2 {
						return false
					}
				}
				return true
			})
			assertServes(t, listen, "v1")
		})
	}
}
