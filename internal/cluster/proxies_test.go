package cluster_test

import (
	"context"
	"encoding/json"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/kubestate"
)

// TestProxyReplicaKilledTheOtherKeepsServing: one of two proxy replicas is killed under
// load; requests through the other keep succeeding, and a deployment made while the dead
// replica's last report is still there does not wait on it for ever (its report goes stale).
func TestProxyReplicaKilledTheOtherKeepsServing(t *testing.T) {
	h := newHarness(t, "proxykill")
	h.startController("c1")
	p1, p2 := h.twoProxiesServingV1()
	stop1, stop2 := load(t, "http://"+p1.addr+"/", 40), load(t, "http://"+p2.addr+"/", 40)
	time.Sleep(2 * time.Second)
	h.kill(p2)
	dead := stop2()
	time.Sleep(2 * time.Second)
	d := h.wait(h.deploy(appSpec("v2", 2, "", "")).ID, 2*time.Minute)
	time.Sleep(time.Second)
	live := stop1()
	t.Logf("through the live replica: %s; through the killed one before its end: %s; deployment %s", live, dead, d.Status)
	if d.Status != "succeeded" {
		t.Fatalf("deployment with a dead proxy replica: %s %s", d.Status, d.Reason)
	}
	if live.Failed != 0 || live.ByVersion["v1"] == 0 || live.ByVersion["v2"] == 0 {
		t.Errorf("through the live replica: %d of %d failed, by version %v; want none failed and both versions served",
			live.Failed, live.Sent, live.ByVersion)
	}
	if dead.OK == 0 {
		t.Errorf("the killed replica served nothing before it was killed: %s", dead)
	}
}

// TestCanaryFailingFivePercentRolledBackFromBothProxies: load split over two proxy
// replicas; a canary failing 5% of its requests is rolled back by the judge, whose evidence
// counts more canary requests than either replica saw: it summed both.
func TestCanaryFailingFivePercentRolledBackFromBothProxies(t *testing.T) {
	h := newHarness(t, "badcanary")
	h.startController("c1")
	p1, p2 := h.twoProxiesServingV1()
	stop1, stop2 := load(t, "http://"+p1.addr+"/", 50), load(t, "http://"+p2.addr+"/", 50)
	bad := h.deploy(appSpec("v2", 2, "    ERROR_RATE: \"0.05\"\n", "canary:\n  steps:\n    - weight: 50\n    - analysis: {duration: 3m}\n    - weight: 100\n"))
	got := h.wait(bad.ID, 4*time.Minute)
	time.Sleep(500 * time.Millisecond)
	sum1, sum2 := stop1(), stop2()
	t.Logf("deployment %s: %s; p1 %s; p2 %s", got.Status, got.Reason, sum1, sum2)
	if got.Status != "rolled_back" || got.Verdict == nil || got.Verdict.Outcome != "fail" {
		t.Fatalf("deployment %s %q verdict %+v; want rolled_back on a fail verdict", got.Status, got.Reason, got.Verdict)
	}
	var ev analysis.Evidence
	if err := json.Unmarshal(got.Verdict.Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	reps, err := kubestate.NewReports(admin, h.ns).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	most := int64(0)
	for _, r := range reps {
		c := r.Counts["web"][2].Requests
		t.Logf("proxy %s: canary requests %d", r.Replica, c)
		most = max(most, c)
	}
	t.Logf("judge's canary requests %d (%s)", ev.Canary.Requests, got.Verdict.Summary)
	if len(reps) != 2 || ev.Canary.Requests <= most {
		t.Errorf("the judge counted %d canary requests, one replica alone saw %d (of %d reports): it did not sum the replicas",
			ev.Canary.Requests, most, len(reps))
	}
	if sum1.ByVersion["v2"] == 0 || sum2.ByVersion["v2"] == 0 {
		t.Errorf("the canary was not reached through both replicas: %v %v", sum1.ByVersion, sum2.ByVersion)
	}
}

// TestProxyReplicaServesThroughItsShutdownDelay: a proxy told to stop (SIGTERM, as
// Kubernetes does) keeps serving new requests for --shutdown-delay, while the Service would
// still send it traffic, then exits.
func TestProxyReplicaServesThroughItsShutdownDelay(t *testing.T) {
	h := newHarness(t, "proxystop")
	h.startController("c1")
	p := h.startProxy("p1", "--shutdown-delay", "4s")
	if d := h.wait(h.deploy(appSpec("v1", 1, "", "")).ID, 2*time.Minute); d.Status != "succeeded" {
		t.Fatalf("first deployment: %s %s", d.Status, d.Reason)
	}
	waitServes(t, p.addr, "v1")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stop := load(t, "http://"+p.addr+"/", 50)
	time.Sleep(time.Second)
	sum := stop()
	t.Logf("in the first second after SIGTERM: %s", sum)
	if sum.Failed != 0 || sum.OK == 0 {
		t.Errorf("after SIGTERM, within the shutdown delay: %d of %d failed", sum.Failed, sum.Sent)
	}
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatal("the proxy did not exit after its shutdown delay")
	}
	if resp, err := http.Get("http://" + p.addr + "/"); err == nil {
		resp.Body.Close()
		t.Fatal("the proxy still answers after it exited")
	}
}
