package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
)

// imageYAML is a spec running the demo image with a Docker health check (which gates
// readiness) and an HTTP readiness probe.
func imageYAML(name, listen, image, version, strategy string, env map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nreplicas: 2\nstop_grace: 5s\nrun:\n  image: %s\n  env:\n    VERSION: %q\n", name, image, version)
	for k, v := range env {
		fmt.Fprintf(&b, "    %s: %q\n", k, v)
	}
	b.WriteString("  container:\n    port: 8080\n    memory: 64m\n    read_only: true\n" +
		"    healthcheck: {test: [CMD, /healthprobe], interval: 250ms, timeout: 2s, retries: 2}\n")
	b.WriteString("probes:\n  readiness:\n    http: {path: /healthz}\n    period: 100ms\n    failure_threshold: 2\n")
	fmt.Fprintf(&b, "route:\n  listen: %s\n  drain_timeout: 5s\n", listen)
	if strategy != "" {
		b.WriteString("strategy:\n" + indent(strategy, "  "))
	}
	return b.String()
}

// containersOf lists the containers a daemon with this state directory owns, by label.
func containersOf(t *testing.T, state string) []container.Summary {
	t.Helper()
	cli := dockertest.Client(t)
	owner, _ := filepath.Abs(state)
	list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", docker.LabelOwner+"="+owner))})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	return list
}

// cleanupContainers removes the containers of state's daemon when the test ends.
func cleanupContainers(t *testing.T, state string) {
	cli := dockertest.Client(t)
	owner, _ := filepath.Abs(state)
	t.Cleanup(func() {
		if err := dockertest.RemoveContainers(context.Background(), cli, docker.LabelOwner, owner); err != nil {
			t.Errorf("remove containers: %v", err)
		}
	})
}

// TestContainerStrategiesOnDocker deploys the demo image on the real Docker engine: a first
// rolling deploy, a second version under steady load (no failed request), a blue-green deploy
// under load, then a canary whose containers fail 5% of requests, rolled back.
func TestContainerStrategiesOnDocker(t *testing.T) {
	image := dockertest.DemoImage(t)
	h := newHarness(t)
	cleanupContainers(t, h.d.opts.StateDir)
	listen := freeAddr(t)
	deploy := func(version, strategy string, env map[string]string) int64 {
		t.Helper()
		dep, err := h.client.Deploy(context.Background(), apiDeploy("web", imageYAML("web", listen, image, version, strategy, env)))
		if err != nil {
			t.Fatalf("deploy %s: %v", version, err)
		}
		return dep.ID
	}
	if got := h.wait(deploy("v1", "", nil), 60*time.Second); got.Status != "succeeded" {
		t.Fatalf("first deploy: %s %q", got.Status, got.Reason)
	}
	assertServes(t, listen, "v1")
	if n := len(containersOf(t, h.d.opts.StateDir)); n != 2 {
		t.Errorf("containers after v1: %d, want 2", n)
	}

	stop := startLoad(t, listen, 100)
	rolled := h.wait(deploy("v2", "rolling: {max_surge: 1, max_unavailable: 0}", nil), 90*time.Second)
	bg := h.wait(deploy("v3", "blue_green: {}", nil), 90*time.Second)
	time.Sleep(300 * time.Millisecond)
	sum := stop()
	t.Logf("rolling + blue-green under load: %s", sum)
	if rolled.Status != "succeeded" || bg.Status != "succeeded" {
		t.Fatalf("rolling %s %q, blue-green %s %q; want both succeeded", rolled.Status, rolled.Reason, bg.Status, bg.Reason)
	}
	if sum.Failed != 0 || sum.GeneratorDropped != 0 || sum.ByVersion["v2"] == 0 || sum.ByVersion["v3"] == 0 {
		t.Errorf("load: %s; want no failure and both v2 and v3 served", sum)
	}
	assertServes(t, listen, "v3")

	stop = startLoad(t, listen, 200)
	time.Sleep(300 * time.Millisecond)
	bad := h.wait(deploy("v4", "canary:\n  steps:\n    - weight: 20\n    - analysis: {duration: 2m}\n    - weight: 100\n",
		map[string]string{"ERROR_RATE": "0.05"}), 120*time.Second)
	sum = stop()
	t.Logf("canary under load: %s", sum)
	if bad.Status != "rolled_back" || bad.Verdict == nil || bad.Verdict.Outcome != "fail" {
		t.Fatalf("canary: %s %q verdict %+v; want rolled_back on a fail verdict", bad.Status, bad.Reason, bad.Verdict)
	}
	if sum.ByVersion["v4"] == 0 {
		t.Errorf("the canary served no request: %s", sum)
	}
	assertServes(t, listen, "v3")
	waitFor(t, 30*time.Second, "only v3's two containers left", func() bool {
		list := containersOf(t, h.d.opts.StateDir)
		for _, c := range list {
			if c.Labels[docker.LabelRevision] != fmt.Sprint(bg.To) {
				return false
			}
		}
		return len(list) == 2
	})
}

// TestImageDeployWithoutEngineFailsBeforeChanges: with an engine that does not answer, a
// process deployment still works and an image deployment is refused with a clear reason,
// recording nothing.
func TestImageDeployWithoutEngineFailsBeforeChanges(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-docker.sock"))
	h := newHarness(t)
	listen := freeAddr(t)
	first := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1"})
	if got := h.wait(first.ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("process deploy: %s %q", got.Status, got.Reason)
	}
	_, err := h.client.Deploy(context.Background(), apiDeploy("img", imageYAML("img", freeAddr(t), "cutover-demoapp:test", "v1", "", nil)))
	if err == nil || !strings.Contains(err.Error(), "container runtime unreachable") {
		t.Fatalf("image deploy without engine: %v; want a container runtime unreachable error", err)
	}
	if _, err := h.client.Service(context.Background(), "img"); err == nil {
		t.Errorf("service img was recorded although its deploy was refused")
	}
}

func apiDeploy(service, yaml string) api.DeployRequest {
	return api.DeployRequest{Service: service, Spec: yaml, Who: "test"}
}
