package cluster_test

import (
	"testing"
	"time"
)

// TestRollingAndBlueGreenUnderLoadThroughTwoProxies: under steady load through two proxy
// replicas, a rolling deployment then a blue-green one, both driven by the in-cluster
// leader: no request failed through either replica, and each new version served.
func TestRollingAndBlueGreenUnderLoadThroughTwoProxies(t *testing.T) {
	h := newHarness(t, "strategies")
	h.startController("c1")
	h.startController("c2")
	p1, p2 := h.startProxy("p1"), h.startProxy("p2")
	if d := h.wait(h.deploy(appSpec("v1", 2, "", "")).ID, 2*time.Minute); d.Status != "succeeded" {
		t.Fatalf("first deployment: %s %s", d.Status, d.Reason)
	}
	waitServes(t, p1.addr, "v1")
	waitServes(t, p2.addr, "v1")
	stop1, stop2 := load(t, "http://"+p1.addr+"/", 40), load(t, "http://"+p2.addr+"/", 40)
	rolling := h.wait(h.deploy(appSpec("v2", 2, "", "rolling: {max_surge: 1, max_unavailable: 0}\n")).ID, 2*time.Minute)
	if rolling.Status != "succeeded" {
		t.Fatalf("rolling: %s %s", rolling.Status, rolling.Reason)
	}
	waitServes(t, p1.addr, "v2")
	bg := h.wait(h.deploy(appSpec("v3", 2, "", "blue_green: {}\n")).ID, 2*time.Minute)
	if bg.Status != "succeeded" {
		t.Fatalf("blue-green: %s %s", bg.Status, bg.Reason)
	}
	waitServes(t, p1.addr, "v3")
	waitServes(t, p2.addr, "v3")
	time.Sleep(time.Second)
	sum1, sum2 := stop1(), stop2()
	t.Logf("p1: %s; p2: %s", sum1, sum2)
	for _, s := range []struct {
		name string
		sent int64
		fail int64
		by   map[string]int64
	}{{"p1", sum1.Sent, sum1.Failed, sum1.ByVersion}, {"p2", sum2.Sent, sum2.Failed, sum2.ByVersion}} {
		if s.fail != 0 || s.by["v2"] == 0 || s.by["v3"] == 0 {
			t.Errorf("through %s: %d of %d failed, by version %v; want none failed, v2 and v3 served", s.name, s.fail, s.sent, s.by)
		}
	}
	waitFor(t, 60*time.Second, "only revision 3's pods", func() bool {
		p := h.pods("web")
		return p["3"] == 2 && len(p) == 1
	})
}
