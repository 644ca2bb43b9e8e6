package daemon

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/testbin"
)

// pause-traffic holds a service's requests, across a kill -9 of the daemon, until
// resume-traffic releases them: none fails. Bad input changes nothing.
func TestPauseTrafficSurvivesKill9(t *testing.T) {
	h := &harness{t: t, app: testbin.Demoapp(t)}
	listen := freeAddr(t)
	state := t.TempDir()
	p := startServe(t, state)
	ctx := context.Background()
	dep, err := p.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: h.yaml(appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1})})
	if err != nil {
		t.Fatal(err)
	}
	waitDeployment(t, p.client, dep.ID, "succeeded")

	if err := p.client.PauseTraffic(ctx, "web", "forever"); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("pause-traffic --timeout forever: %v, want an error naming the timeout", err)
	}
	if err := p.client.PauseTraffic(ctx, "nope", "1m"); err == nil {
		t.Fatal("pause-traffic of an unknown service succeeded")
	}
	if code := getStatus(t, "http://"+listen+"/"); code != http.StatusOK {
		t.Fatalf("after refused pauses: got %d, want 200 (nothing paused)", code)
	}
	if err := p.client.PauseTraffic(ctx, "web", "2m"); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Process.Signal(os.Kill)
	_ = p.cmd.Wait()
	p = startServe(t, state)

	const n = 10
	codes := make(chan int, n)
	for range n {
		go func() { codes <- getStatus(t, "http://"+listen+"/") }()
	}
	time.Sleep(500 * time.Millisecond)
	if len(codes) != 0 {
		t.Fatalf("%d requests were answered while the traffic was paused (first: %d)", len(codes), <-codes)
	}
	if err := p.client.ResumeTraffic(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	for range n {
		if c := <-codes; c != http.StatusOK {
			t.Fatalf("a held request got %d after resume-traffic, want 200", c)
		}
	}
}

func getStatus(t *testing.T, url string) int {
	c := &http.Client{Timeout: time.Minute}
	resp, err := c.Get(url)
	if err != nil {
		return -1
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
