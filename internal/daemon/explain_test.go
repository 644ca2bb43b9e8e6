package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
)

// TestFailuresExplainThemselves: a crash-looping revision's rollback reason carries the exit
// and the last lines of the instance's output with its secret hidden; a revision that never
// becomes ready is rolled back with its last probe result.
func TestFailuresExplainThemselves(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	h.wait(h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1"}).ID, 30*time.Second)
	crash := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2", Env: map[string]string{"STARTUP_DELAY": "300ms",
		"EXIT_AFTER": "100ms", "EXIT_CODE": "3", "API_TOKEN": "s3cr3tvalue123", "PRINT_ENV": "VERSION,API_TOKEN"}})
	got := h.wait(crash.ID, 60*time.Second)
	if got.Status != "rolled_back" || !strings.Contains(got.Reason, "last output:") || !strings.Contains(got.Reason, "env VERSION=v2") ||
		!strings.Contains(got.Reason, "3") {
		t.Errorf("crash loop: %s %q; want the exit and the output's last lines", got.Status, got.Reason)
	}
	evs, err := h.client.Events(context.Background(), api.EventQuery{DeploymentID: crash.ID}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if strings.Contains(e.Message, "s3cr3tvalue123") {
			t.Errorf("event %s shows the secret: %q", e.Type, e.Message)
		}
	}
	if strings.Contains(got.Reason, "s3cr3tvalue123") {
		t.Errorf("the reason shows the secret: %q", got.Reason)
	}
	never := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v3", Env: map[string]string{"NEVER_READY": "1"},
		Strategy: "rolling: {progress_deadline: 2s}\n"})
	got = h.wait(never.ID, 60*time.Second)
	if got.Status != "rolled_back" || !strings.Contains(got.Reason, "progress_deadline") || !strings.Contains(got.Reason, "503") {
		t.Errorf("never ready: %s %q; want the deadline and the probe's last result (503)", got.Status, got.Reason)
	}
}
