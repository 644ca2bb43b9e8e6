package daemon

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/gateway/gatewaytest"
	"github.com/cutover/cutover/internal/promtest"
)

// TestKubeGatewayCanaryRolledBackByPrometheus: with route.gateway, cutover steers the real
// HTTPRoute (the CRD from sigs.k8s.io/gateway-api) instead of carrying the traffic: one
// Service per revision, backendRefs weighted step by step. The users' traffic goes through
// a stand-in gateway that routes by those backendRefs, a real Prometheus scrapes the pods'
// own counters, and a canary failing 5% is rolled back by the Prometheus counts alone: the
// route goes back to the stable revision and the canary's Service is deleted.
func TestKubeGatewayCanaryRolledBackByPrometheus(t *testing.T) {
	prom, targets := promtest.Require(t)
	c, admin := kubeCluster(t)
	dyn, err := dynamic.NewForConfig(c.Admin)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := gatewaytest.InstallHTTPRouteCRD(ctx, dyn); err != nil {
		t.Fatal(err)
	}
	ns := kubeNamespace(t, admin, "gateway")
	if err := gatewaytest.CreateHTTPRoute(ctx, dyn, ns, "web"); err != nil {
		t.Fatal(err)
	}
	h := newKubeHarness(t, c.Kubeconfig(), ns)
	listen := freeAddr(t)
	gw := "  gateway: {httproute: web}\n"
	v1 := strings.Replace(kubeYAML(h, appSpec{Name: "web", Listen: listen, Version: "v1"}), "route:\n", "route:\n"+gw, 1)
	dep, err := h.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: v1})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.wait(dep.ID, 90*time.Second); got.Status != "succeeded" {
		t.Fatalf("first deploy: %s %s", got.Status, got.Reason)
	}
	waitFor(t, 30*time.Second, "the route on web-r1 alone", func() bool { return sameWeights(ctx, dyn, ns, map[string]int64{"web-r1": 100}) })

	gwCtx, stopGW := context.WithCancel(ctx)
	defer stopGW()
	g, err := gatewaytest.Start(gwCtx, admin, dyn, ns, "web")
	if err != nil {
		t.Fatal(err)
	}
	stop := loadOnce(t, g.Addr, 200)
	defer stop()

	run := fmt.Sprintf("gateway-%d", time.Now().UnixNano())
	q := func(metric string) string {
		return fmt.Sprintf(`sum(%s{cutover_test_run="%s",revision="{{revision}}"})`, metric, run)
	}
	strategy := fmt.Sprintf(`canary:
  steps:
    - weight: 10
    - pause: 1s
    - weight: 30
    - analysis: {duration: 4m}
    - weight: 100
  analysis:
    errors: false
    latency: false
    prometheus:
      - {name: app, url: %q, interval: 1s, requests: '%s', errors: '%s'}
`, prom, q("demoapp_requests_total"), q("demoapp_errors_total"))
	v2 := strings.Replace(kubeYAML(h, appSpec{Name: "web", Listen: listen, Version: "v2",
		Env: map[string]string{"ERROR_RATE": "0.05"}, Strategy: strategy}), "route:\n", "route:\n"+gw, 1)
	seen := watchWeights(t, dyn, ns)
	dep, err = h.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: v2})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 90*time.Second, "targets of both revisions scraped", func() bool {
		return writeTargets(t, h, targets, run) && promCount(t, prom, fmt.Sprintf(`count(up{cutover_test_run=%q} == 1)`, run)) >= 3
	})
	got := h.wait(dep.ID, 4*time.Minute)
	sum := stop()
	t.Logf("deployment: %s %q; load through the gateway: %s", got.Status, got.Reason, sum)
	if got.Status != "rolled_back" || got.Verdict == nil || got.Verdict.Outcome != "fail" || !strings.Contains(got.Reason, "prometheus") {
		t.Fatalf("deployment: %s %q verdict %+v; want rolled back by the prometheus counts", got.Status, got.Reason, got.Verdict)
	}
	waitFor(t, 30*time.Second, "the route back on web-r1 alone", func() bool { return sameWeights(ctx, dyn, ns, map[string]int64{"web-r1": 100}) })
	canaryWeights := seen()
	t.Logf("web-r2 weights seen on the route: %v", canaryWeights)
	if !isSubsequence([]int64{10, 30}, canaryWeights) {
		t.Errorf("the canary's weights on the route were %v, want 10 then 30", canaryWeights)
	}
	if sum.ByVersion["v2"] == 0 || sum.ByVersion["v1"] == 0 {
		t.Errorf("the gateway did not send traffic to both revisions: %v", sum.ByVersion)
	}
	waitFor(t, 30*time.Second, "the canary's Service deleted", func() bool {
		_, err := admin.CoreV1().Services(ns).Get(ctx, "web-r2", metav1.GetOptions{})
		return err != nil
	})
}

func sameWeights(ctx context.Context, dyn dynamic.Interface, ns string, want map[string]int64) bool {
	got, err := gatewaytest.BackendWeights(ctx, dyn, ns, "web")
	if err != nil || len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// watchWeights polls the route every 20ms until the test ends; the returned function gives
// the distinct successive weights of web-r2 seen so far.
func watchWeights(t *testing.T, dyn dynamic.Interface, ns string) func() []int64 {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var seen []int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if w, err := gatewaytest.BackendWeights(ctx, dyn, ns, "web"); err == nil {
				if v, ok := w["web-r2"]; ok {
					mu.Lock()
					if len(seen) == 0 || seen[len(seen)-1] != v {
						seen = append(seen, v)
					}
					mu.Unlock()
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func() []int64 {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// isSubsequence reports whether want appears in got in order.
func isSubsequence(want, got []int64) bool {
	i := 0
	for _, v := range got {
		if i < len(want) && v == want[i] {
			i++
		}
	}
	return i == len(want)
}
