package daemon

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/testbin"
)

// TestCanaryJudgeResumesAfterKill9: a real daemon judging a canary under load through its
// proxy is killed with SIGKILL mid-analysis and started again on the same state; the
// canary's final verdict counts the requests the canary served before the kill as well as
// after, and says it was resumed once.
func TestCanaryJudgeResumesAfterKill9(t *testing.T) {
	state := t.TempDir()
	h := &harness{t: t, app: testbin.Demoapp(t)}
	listen := freeAddr(t)
	spec := func(v string) string {
		return h.yaml(appSpec{Name: "web", Listen: listen, Version: v,
			Strategy: "canary:\n  steps:\n    - weight: 20\n    - pause: {}\n  analysis: {min_requests: 50}\n"})
	}
	ctx := context.Background()
	p := startServe(t, state)
	first, err := p.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: spec("v1")})
	if err != nil {
		t.Fatal(err)
	}
	waitDeployment(t, p.client, first.ID, "succeeded")
	canary, err := p.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: spec("v2")})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the canary at 20%", func() bool {
		svc, err := p.client.Service(ctx, "web")
		return err == nil && svc.Weights[2] == 20
	})
	before := startLoad(t, listen, 100)
	waitFor(t, 60*time.Second, "200 canary requests judged", func() bool {
		ev, ok := liveEvidence(t, p.client, canary.ID)
		return ok && ev.Canary.Requests >= 200
	})
	sumBefore := before()
	// Let the controller store the last window (it persists at every look, at most 1 s apart).
	time.Sleep(2 * time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()

	p2 := startServe(t, state, "--stop-instances")
	// The resumed judge takes its first look as a new starting point; load starts after it.
	time.Sleep(2 * time.Second)
	after := startLoad(t, listen, 100)
	time.Sleep(3 * time.Second)
	sumAfter := after()
	time.Sleep(2 * time.Second)
	if _, err := p2.client.Promote(ctx, "web", false); err != nil {
		t.Fatal(err)
	}
	waitDeployment(t, p2.client, canary.ID, "succeeded")
	dep, err := p2.client.Deployment(ctx, canary.ID)
	if err != nil || dep.Verdict == nil {
		t.Fatalf("deployment %+v (%v): want a final verdict", dep, err)
	}
	ev := decodeEvidence(t, *dep.Verdict)
	b, a := int64(sumBefore.ByVersion["v2"]), int64(sumAfter.ByVersion["v2"])
	t.Logf("canary served %d before the kill, %d after; final verdict %s (%s): %d canary requests, %d resumes",
		b, a, dep.Verdict.Outcome, dep.Verdict.Rule, ev.Canary.Requests, ev.Resumes)
	if ev.Resumes != 1 {
		t.Errorf("resumes %d, want 1", ev.Resumes)
	}
	// Every request before the kill was judged (the last window was stored), and all after.
	if ev.Canary.Requests < b+a*9/10 || ev.Canary.Requests > b+a {
		t.Errorf("final verdict counts %d canary requests; want those before the kill (%d) and after (%d)", ev.Canary.Requests, b, a)
	}
	if dep.Verdict.Outcome != "pass" {
		t.Errorf("verdict %s: %s; want a pass for a healthy canary", dep.Verdict.Outcome, dep.Verdict.Reason)
	}
}

// liveEvidence returns the running deployment's verdict evidence, if it has one.
func liveEvidence(t *testing.T, c *api.Client, id int64) (analysis.Evidence, bool) {
	d, err := c.Deployment(context.Background(), id)
	if err != nil || d.Verdict == nil {
		return analysis.Evidence{}, false
	}
	return decodeEvidence(t, *d.Verdict), true
}

func decodeEvidence(t *testing.T, v api.Verdict) analysis.Evidence {
	t.Helper()
	var ev analysis.Evidence
	if err := json.Unmarshal(v.Evidence, &ev); err != nil {
		t.Fatalf("decode evidence %s: %v", v.Evidence, err)
	}
	return ev
}
