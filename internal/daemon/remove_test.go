package daemon

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/testbin"
)

// TestRemoveService removes a running service (DELETE /v1/services/NAME, as down -f does):
// refused while a deployment runs; then its processes stop, its port closes and the daemon
// forgets it, also after a kill -9 and a restart on the same state; an unknown service is
// not found.
func TestRemoveService(t *testing.T) {
	state := t.TempDir()
	mark := fmt.Sprintf("remove-%d", os.Getpid())
	t.Cleanup(func() { killMarked(t, mark) })
	h := &harness{t: t, app: testbin.Demoapp(t)}
	listen := freeAddr(t)
	spec := func(v, delay string) string {
		return h.yaml(appSpec{Name: "web", Listen: listen, Version: v, Replicas: 2,
			Env: map[string]string{"TEST_MARK": mark, "STARTUP_DELAY": delay}})
	}
	p := startServe(t, state)
	ctx := context.Background()
	first, err := p.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: spec("v1", "0s")})
	if err != nil {
		t.Fatal(err)
	}
	waitDeployment(t, p.client, first.ID, "succeeded")
	assertServes(t, listen, "v1")

	second, err := p.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: spec("v2", "2s")})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.client.RemoveService(ctx, "web"); !isErr(err, api.ErrConflict) {
		t.Errorf("remove during a deployment: %v, want a conflict", err)
	}
	waitDeployment(t, p.client, second.ID, "succeeded")

	if err := p.client.RemoveService(ctx, "web"); err != nil {
		t.Fatalf("remove: %v", err)
	}
	gone := func(when string) {
		t.Helper()
		if _, err := p.client.Service(ctx, "web"); !isErr(err, api.ErrNotFound) {
			t.Errorf("%s: the daemon still knows web: %v", when, err)
		}
		if left := markedProcesses(t, mark); len(left) != 0 {
			t.Errorf("%s: web's processes still run: %v", when, left)
		}
		if conn, err := net.DialTimeout("tcp", listen, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s: web's port %s still accepts", when, listen)
		}
	}
	gone("after remove")
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	p = startServe(t, state)
	time.Sleep(500 * time.Millisecond) // a reconcile round or more
	gone("after a kill -9 and a restart")
	if err := p.client.RemoveService(ctx, "web"); !isErr(err, api.ErrNotFound) {
		t.Errorf("remove of an unknown service: %v, want not found", err)
	}
}
