package cluster_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	p1, p2 := h.twoProxiesServingV1()
	stop1, stop2 := load(t, "http://"+p1.addr+"/", 40), load(t, "http://"+p2.addr+"/", 40)
	rolling := h.wait(h.deploy(appSpec("v2", 2, "", "rolling: {max_surge: 1, max_unavailable: 0}\n")).ID, 2*time.Minute)
	if rolling.Status != "succeeded" {
		t.Fatalf("rolling: %s %s", rolling.Status, rolling.Reason)
	}
	waitServes(t, p1.addr, "v2")
	// The CLI talks to a controller replica as to a local daemon: deploy --wait exits 0
	// once the deployment succeeded.
	specFile := filepath.Join(h.dir, "web-v3.yaml")
	if err := os.WriteFile(specFile, []byte(appSpec("v3", 2, "", "blue_green: {}\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := exec.Command(h.bin, "--addr", h.controllers["c2"].addr, "--token", h.token, "deploy", "web", "--spec", specFile, "--wait", "--timeout", "2m")
	out, err := cli.CombinedOutput()
	t.Logf("cutover deploy web --wait (blue-green): %v\n%s", err, out)
	if err != nil {
		t.Fatalf("cutover deploy --wait through a controller replica: %v", err)
	}
	status, err := exec.Command(h.bin, "--addr", h.controllers["c1"].addr, "--token", h.token, "status", "web").CombinedOutput()
	if err != nil || !strings.Contains(string(status), "stable:           3") || !strings.Contains(string(status), "r3 100%") {
		t.Fatalf("cutover status web: %v\n%s", err, status)
	}
	t.Logf("cutover status web:\n%s", status)
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
