package daemon

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/crashpoint"
	"github.com/cutover/cutover/internal/testbin"
)

// TestKillBetweenSwitchRecordAndSwap: a daemon killed (SIGKILL) once it has recorded a warm
// rollback, whose commit does not wait for the disk, and before it moved traffic comes back
// with the rolled-back revision stable and serving, and the rollback recorded as succeeded.
func TestKillBetweenSwitchRecordAndSwap(t *testing.T) {
	const step = "switch-record-after"
	app := testbin.Demoapp(t)
	state := t.TempDir()
	mark := fmt.Sprintf("switch-%d", os.Getpid())
	h := &harness{t: t, app: app}
	listen := freeAddr(t)
	t.Cleanup(func() { killMarked(t, mark) })
	spec := func(v string) string {
		return h.yaml(appSpec{Name: "web", Listen: listen, Version: v, Replicas: 1,
			Env: map[string]string{"TEST_MARK": mark}, Strategy: "blue_green: {scale_down_delay: 5m}\n"})
	}
	p := startServeEnv(t, state, []string{crashpoint.Env + "=" + step})
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	ctx := context.Background()
	for _, v := range []string{"v1", "v2"} {
		dep, err := p.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: spec(v)})
		if err != nil {
			t.Fatalf("deploy %s: %v\n%s", v, err, p.log)
		}
		waitFor(t, 60*time.Second, "deploy "+v+" to end", func() bool {
			dep, err = p.client.Deployment(ctx, dep.ID)
			return err == nil && dep.Final()
		})
		if dep.Status != "succeeded" {
			t.Fatalf("deploy %s: %s (%s)", v, dep.Status, dep.Reason)
		}
	}
	if _, err := p.client.Rollback(ctx, "web", api.RollbackRequest{To: 1}); err == nil {
		t.Fatalf("rollback answered although the daemon should have died at %s", step)
	}
	select {
	case err := <-exited:
		checkKilled(t, err, step, p)
	case <-time.After(30 * time.Second):
		t.Fatalf("the rollback never reached %s\n%s", step, p.log)
	}

	p2 := startServe(t, state, "--stop-instances")
	svc, err := p2.client.Service(ctx, "web")
	if err != nil || svc.Stable != 1 {
		t.Fatalf("after the restart: stable revision %d (%v), want 1, the revision the record names", svc.Stable, err)
	}
	deps, err := p2.client.Deployments(ctx, "web", 1)
	if err != nil || len(deps) != 1 || deps[0].Kind != "rollback" || deps[0].Status != "succeeded" || deps[0].To != 1 {
		t.Fatalf("last deployment after the restart: %+v (%v), want the succeeded rollback to 1", deps, err)
	}
	waitFor(t, 30*time.Second, "a ready instance of revision 1", func() bool {
		svc, err := p2.client.Service(ctx, "web")
		if err != nil {
			return false
		}
		for _, in := range svc.Instances {
			if in.Revision == 1 && in.Ready {
				return true
			}
		}
		return false
	})
	assertServes(t, listen, "v1")
	if err := p2.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := p2.cmd.Wait(); err != nil {
		t.Errorf("daemon exit after SIGINT: %v\n%s", err, p2.log)
	}
}
