package daemon

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/crashpoint"
	"github.com/cutover/cutover/internal/testbin"
)

// TestKillDuringSecretsSet kills the real daemon (SIGKILL) right after `secrets set` has
// stored a new version of a running service's secret and before the deployment that would
// carry it: after a restart the store holds the new version whole, the service still serves
// the old value (its revision is unchanged), and the next deploy serves the new one. Neither
// value is in the state file's plain bytes.
func TestKillDuringSecretsSet(t *testing.T) {
	h := &harness{t: t, app: testbin.Demoapp(t)}
	state := t.TempDir()
	listen := freeAddr(t)
	ctx := context.Background()
	p := startServeEnv(t, state, []string{crashpoint.Env + "=secret-stored"}, "--stop-instances")
	if _, err := p.client.SetSecret(ctx, "web", "VERSION", "sekrit-one"); err != nil {
		t.Fatal(err) // no deployment yet: the point is not reached
	}
	spec := h.yaml(appSpec{Name: "web", Listen: listen, Version: "from-spec", Replicas: 1,
		Extra: "config:\n  - {name: VERSION, secret: true}\n"})
	dep, err := p.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	waitDeployment(t, p.client, dep.ID, "succeeded")
	serves(t, listen, "sekrit-one")

	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	if _, err := p.client.SetSecret(ctx, "web", "VERSION", "sekrit-two"); err == nil {
		t.Fatalf("secrets set answered: the daemon was to die first\n%s", p.log)
	}
	select {
	case err := <-exited:
		checkKilled(t, err, "secret-stored", p)
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon did not die at secret-stored")
	}

	q := startServe(t, state, "--stop-instances")
	list, err := q.client.Secrets(ctx, "web")
	if err != nil || len(list) != 1 || list[0].Version != 2 {
		t.Fatalf("secrets after the restart: %+v, %v; want VERSION at version 2", list, err)
	}
	serves(t, listen, "sekrit-one")
	dep, err = q.client.Deploy(ctx, api.DeployRequest{Service: "web"})
	if err != nil {
		t.Fatal(err)
	}
	waitDeployment(t, q.client, dep.ID, "succeeded")
	serves(t, listen, "sekrit-two")
	for _, name := range []string{"state.db", "state.db-wal"} {
		b, err := os.ReadFile(filepath.Join(state, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("sekrit-")) {
			t.Errorf("%s holds a secret value in plain bytes", name)
		}
	}
}

// serves waits until the route answers with the demo app's greeting of version.
func serves(t *testing.T, listen, version string) {
	t.Helper()
	waitFor(t, 30*time.Second, "the route to serve "+version, func() bool {
		resp, err := http.Get("http://" + listen + "/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "hello from demoapp "+version)
	})
}
