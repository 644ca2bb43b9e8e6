package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/cli"
	"github.com/cutover/cutover/internal/loadgen"
)

// kubeCLI runs the real cutover binary against h's daemon and returns stdout, stderr and
// the exit code.
func kubeCLI(t *testing.T, h *harness, args ...string) (string, string, int) {
	t.Helper()
	all := append([]string{"--state", t.TempDir(), "--addr", "http://" + h.d.Addr(), "--token", h.d.Token()}, args...)
	return cutoverCLI(t, nil, all...)
}

// loadOnce is startLoad whose stop may be called again (by a defer after a failure).
func loadOnce(t *testing.T, listen string, rate int) func() loadgen.Summary {
	stop := startLoad(t, listen, rate)
	var once sync.Once
	var sum loadgen.Summary
	return func() loadgen.Summary {
		once.Do(func() { sum = stop() })
		return sum
	}
}

// deployWait writes s as a Kubernetes spec and runs `cutover deploy NAME --spec FILE --wait`;
// it returns the exit code and the output.
func deployWait(t *testing.T, h *harness, s appSpec) (int, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), s.Name+"-"+s.Version+".yaml")
	if err := os.WriteFile(file, []byte(kubeYAML(h, s)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := kubeCLI(t, h, "deploy", s.Name, "--spec", file, "--wait", "--timeout", "3m")
	return code, out + errOut
}

// TestKubeStrategiesUnderLoad: a real daemon with CUTOVER_KUBECONFIG runs the demo app as
// pods on a real control plane (the test node runs them) and moves steady load through its
// proxy with rolling, blue-green (smoke hook, preview, manual approval, warm window, then an
// instant rollback into it) and canary (weights, analysis, promote): not one request fails.
// `deploy --wait` exits 0 for each, status and history show the revisions.
func TestKubeStrategiesUnderLoad(t *testing.T) {
	c, admin := kubeCluster(t)
	ns := kubeNamespace(t, admin, "strategies")
	h := newKubeHarness(t, c.Kubeconfig(), ns)
	listen, preview := freeAddr(t), freeAddr(t)
	if code, out := deployWait(t, h, appSpec{Name: "web", Listen: listen, Version: "v1"}); code != cli.ExitOK {
		t.Fatalf("first deploy --wait: exit %d\n%s", code, out)
	}
	if n := len(podsOf(t, admin, ns, "web", 1)); n != 2 {
		t.Fatalf("revision 1 has %d pods, want 2 (replicas)", n)
	}
	stop := loadOnce(t, listen, 100)
	defer stop()

	if code, out := deployWait(t, h, appSpec{Name: "web", Listen: listen, Version: "v2",
		Strategy: "rolling: {max_surge: 1, max_unavailable: 0}\n"}); code != cli.ExitOK {
		t.Fatalf("rolling deploy --wait: exit %d\n%s", code, out)
	}
	assertServes(t, listen, "v2")

	bg := appSpec{Name: "web", Listen: listen, Version: "v3",
		Strategy: "blue_green: {preview_listen: " + preview + ", manual_approval: true, scale_down_delay: 5m}\n",
		Extra:    "hooks:\n  smoke: {command: sh, args: [-c, 'test -n \"$TARGET_URL\"'], timeout: 10s}\n"}
	id, err := kubeDeploy(t, h, bg)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 90*time.Second, "blue-green awaiting approval", func() bool {
		d, err := h.client.Deployment(context.Background(), id)
		if err == nil && d.Final() {
			t.Fatalf("blue-green ended before approval: %s %s", d.Status, d.Reason)
		}
		return err == nil && d.Phase == "awaiting approval"
	})
	for range 5 {
		if v := versionOf(t, "http://"+preview+"/", nil); v != "v3" {
			t.Fatalf("preview before the switch served by %s, want v3", v)
		}
		if v := versionOf(t, "http://"+listen+"/", nil); v != "v2" {
			t.Fatalf("main route before the switch served by %s, want v2", v)
		}
	}
	if _, _, code := kubeCLI(t, h, "promote", "web"); code != cli.ExitOK {
		t.Fatalf("promote: exit %d", code)
	}
	if got := h.wait(id, 90*time.Second); got.Status != "succeeded" {
		t.Fatalf("blue-green: %s %s", got.Status, got.Reason)
	}
	assertServes(t, listen, "v3")
	if n := len(podsOf(t, admin, ns, "web", 2)); n != 2 {
		t.Errorf("blue (revision 2) has %d pods in its warm window, want 2", n)
	}

	// The warm window: a rollback is one switch to the pods that still run.
	rb, err := h.client.Rollback(context.Background(), "web", api.RollbackRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.wait(rb.ID, 60*time.Second); got.Status != "succeeded" || got.Strategy != "switch" || got.To != 2 {
		t.Fatalf("rollback into the warm window: %s %s to %d (%s), want a succeeded switch to 2", got.Status, got.Strategy, got.To, got.Reason)
	}
	assertServes(t, listen, "v2")

	canary := appSpec{Name: "web", Listen: listen, Version: "v4", Strategy: `canary:
  steps:
    - weight: 20
    - analysis: {duration: 3s}
    - weight: 60
    - pause: 1s
  analysis: {min_requests: 20}
`}
	if code, out := deployWait(t, h, canary); code != cli.ExitOK {
		t.Fatalf("canary deploy --wait: exit %d\n%s", code, out)
	}
	assertServes(t, listen, "v4")
	sum := stop()
	t.Logf("load: %s", sum)
	if sum.Failed != 0 || sum.GeneratorDropped != 0 {
		t.Errorf("failed requests: %d (dropped %d), errors %v, statuses %v", sum.Failed, sum.GeneratorDropped, sum.Errors, sum.ByStatus)
	}
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		if sum.ByVersion[v] == 0 {
			t.Errorf("no request was served by %s: %v", v, sum.ByVersion)
		}
	}
	status, _, code := kubeCLI(t, h, "status", "web")
	if code != cli.ExitOK || !strings.Contains(status, "web") {
		t.Errorf("status: exit %d\n%s", code, status)
	}
	hist, _, code := kubeCLI(t, h, "-o", "json", "history", "web")
	for _, r := range []string{"1", "2", "3", "4"} {
		if code != cli.ExitOK || !strings.Contains(hist, `"number": `+r) {
			t.Errorf("history lacks revision %s (exit %d):\n%s", r, code, hist)
		}
	}
	// Revision 3 served last before the rollback: it stays warm for its scale_down_delay.
	waitFor(t, 60*time.Second, "pods of revision 1 gone", func() bool { return len(podsOf(t, admin, ns, "web", 1)) == 0 })
}

// TestKubeCanaryFailing5PercentRolledBack: a canary whose pods fail 5% of requests is judged
// from the proxy's live counts and rolled back; `deploy --wait` exits 4, the canary's pods
// are deleted and the stable revision serves.
func TestKubeCanaryFailing5PercentRolledBack(t *testing.T) {
	c, admin := kubeCluster(t)
	ns := kubeNamespace(t, admin, "badcanary")
	h := newKubeHarness(t, c.Kubeconfig(), ns)
	listen := freeAddr(t)
	if code, out := deployWait(t, h, appSpec{Name: "web", Listen: listen, Version: "v1"}); code != cli.ExitOK {
		t.Fatalf("first deploy: exit %d\n%s", code, out)
	}
	stop := loadOnce(t, listen, 200)
	defer stop()
	time.Sleep(300 * time.Millisecond)
	code, out := deployWait(t, h, appSpec{Name: "web", Listen: listen, Version: "v2", Env: map[string]string{"ERROR_RATE": "0.05"},
		Strategy: "canary:\n  steps:\n    - weight: 20\n    - analysis: {duration: 2m}\n    - weight: 100\n"})
	sum := stop()
	t.Logf("deploy --wait: exit %d\n%s\nload: %s", code, out, sum)
	if code != cli.ExitRolledBack {
		t.Fatalf("deploy --wait of a failing canary: exit %d, want %d (rolled back)", code, cli.ExitRolledBack)
	}
	deps, err := h.client.Deployments(context.Background(), "web", 1)
	if err != nil {
		t.Fatal(err)
	}
	got := deps[0]
	if got.Status != "rolled_back" || got.Verdict == nil || got.Verdict.Outcome != "fail" {
		t.Fatalf("deployment: %s %q verdict %+v; want rolled_back on a fail verdict", got.Status, got.Reason, got.Verdict)
	}
	if n := sum.ByStatus[500]; n == 0 || n > sum.ByVersion["v2"] {
		t.Errorf("500s %d, canary requests %d: the errors should all come from the canary", n, sum.ByVersion["v2"])
	}
	assertServes(t, listen, "v1")
	waitFor(t, 60*time.Second, "the canary's pods deleted", func() bool { return len(podsOf(t, admin, ns, "web", 2)) == 0 })
	if n := len(podsOf(t, admin, ns, "web", 1)); n != 2 {
		t.Errorf("stable revision has %d pods after the rollback, want 2", n)
	}
}

// TestKubeBadInputCreatesNothing: a spec field with no pod equivalent, an image the node
// cannot run and a namespace the daemon's user may not write each end in an error that names
// the cause, and no pod is left behind.
func TestKubeBadInputCreatesNothing(t *testing.T) {
	c, admin := kubeCluster(t)
	ns := kubeNamespace(t, admin, "badinput")
	h := newKubeHarness(t, c.Kubeconfig(), ns)
	listen := freeAddr(t)

	nets := strings.Replace(kubeYAML(h, appSpec{Name: "nets", Listen: listen, Version: "v1"}),
		"runtime: kubernetes\n", "runtime: kubernetes\n  container: {networks: [{name: backend}]}\n", 1)
	dep, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: "nets", Spec: nets})
	id := dep.ID
	checkRefused(t, h, id, err, "container.networks")
	if n := len(podsOf(t, admin, ns, "nets", 0)); n != 0 {
		t.Errorf("%d pods created for a spec with no pod equivalent", n)
	}

	bad := appSpec{Name: "img", Listen: freeAddr(t), Version: "v1", Replicas: 1}
	spec := strings.Replace(kubeYAML(h, bad), kubeImage, "registry.invalid/nothing:1", 1)
	dep, err = h.client.Deploy(context.Background(), api.DeployRequest{Service: "img", Spec: spec})
	checkRefused(t, h, dep.ID, err, "registry.invalid/nothing:1")
	waitFor(t, 30*time.Second, "no pod of the image left", func() bool { return len(podsOf(t, admin, ns, "img", 0)) == 0 })

	locked := kubeNamespace(t, admin, "locked")
	lh := newKubeHarness(t, kubeconfigFor(t, c.Limited.Host, c.Limited.BearerToken), locked)
	id, err = kubeDeploy(t, lh, appSpec{Name: "web", Listen: freeAddr(t), Version: "v1"})
	checkRefused(t, lh, id, err, "namespace locked")
	if n := len(podsOf(t, admin, locked, "web", 0)); n != 0 {
		t.Errorf("%d pods created in a namespace without permission", n)
	}
}

// checkRefused fails t unless the deploy was refused (err) or its deployment failed with a
// reason containing want.
func checkRefused(t *testing.T, h *harness, id int64, err error, want string) {
	t.Helper()
	if err != nil {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("deploy refused with %v, want it to name %q", err, want)
		}
		return
	}
	got := h.wait(id, 90*time.Second)
	t.Logf("deployment %d: %s: %s", id, got.Status, got.Reason)
	if got.Status == "succeeded" || !strings.Contains(got.Reason, want) {
		t.Errorf("deployment %d: %s %q, want it to fail naming %q", id, got.Status, got.Reason, want)
	}
}
