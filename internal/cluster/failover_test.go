package cluster_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// canarySteps is a canary slow enough to kill its leader in the middle of it.
const canarySteps = `canary:
  steps:
    - weight: 25
    - pause: 4s
    - weight: 50
    - pause: 4s
    - weight: 100
`

// TestLeaderKilledMidCanaryAnotherReplicaFinishesIt: two controller replicas and two proxy
// replicas as real processes; under steady load through both proxies, the leader is killed
// (SIGKILL: no release of the lease) in the middle of a canary. The other replica takes the
// lease once it has expired, resumes the deployment from its recorded step, and finishes it:
// no request failed through either proxy, and exactly the new revision's pods are left
// (none started twice, none of the old one orphaned).
func TestLeaderKilledMidCanaryAnotherReplicaFinishesIt(t *testing.T) {
	h := newHarness(t, "failover")
	h.startController("c1")
	h.startController("c2")
	p1, p2 := h.twoProxiesServingV1()
	stop1, stop2 := load(t, "http://"+p1.addr+"/", 40), load(t, "http://"+p2.addr+"/", 40)

	dep := h.deploy(appSpec("v2", 2, "", canarySteps))
	waitFor(t, 90*time.Second, "the canary at 25%", func() bool {
		svc, err := h.client().Service(context.Background(), "web")
		return err == nil && svc.Deployment != nil && svc.Weights[2] == 25
	})
	before, err := h.client().Deployment(context.Background(), dep.ID)
	if err != nil {
		t.Fatal(err)
	}
	old := h.leader()
	killedAt := time.Now()
	h.kill(old)
	t.Logf("killed leader %s at step %d (%s)", old.name, before.Step, before.Phase)

	next := h.leader()
	took := time.Since(killedAt)
	if next.name == old.name {
		t.Fatalf("the killed replica %s still leads", old.name)
	}
	got := h.wait(dep.ID, 2*time.Minute)
	sum1, sum2 := stop1(), stop2()
	t.Logf("new leader %s after %s (lease %s); deployment %s; through p1: %s; through p2: %s", next.name, took.Round(time.Millisecond), leaseDuration, got.Status, sum1, sum2)
	if got.Status != "succeeded" {
		t.Fatalf("deployment after the takeover: %s %s", got.Status, got.Reason)
	}
	if sum1.Failed != 0 || sum2.Failed != 0 || sum1.OK == 0 || sum2.OK == 0 {
		t.Errorf("failed requests through the proxies: p1 %d of %d, p2 %d of %d", sum1.Failed, sum1.Sent, sum2.Failed, sum2.Sent)
	}
	if sum1.ByVersion["v2"] == 0 || sum2.ByVersion["v2"] == 0 {
		t.Errorf("the new revision served nothing through a proxy: %v %v", sum1.ByVersion, sum2.ByVersion)
	}
	events, err := h.client().Events(context.Background(), apiEventQuery(dep.ID), 0)
	if err != nil {
		t.Fatal(err)
	}
	resumed := false
	for _, e := range events {
		if e.Type == "deployment_resumed" {
			resumed = true
			t.Logf("event: %s", e.Message)
		}
	}
	if !resumed {
		t.Errorf("no deployment_resumed event: the deployment was not resumed by another replica")
	}
	// Nothing duplicated or orphaned: the new revision's 2 pods and nothing else.
	waitFor(t, 60*time.Second, "only revision 2's pods", func() bool {
		p := h.pods("web")
		return p["2"] == 2 && len(p) == 1
	})
	l, err := admin.CoordinationV1().Leases(h.ns).Get(context.Background(), "cutover-controller", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *l.Spec.LeaseTransitions < 2 {
		t.Errorf("lease transitions %d, want the takeover counted", *l.Spec.LeaseTransitions)
	}
}
