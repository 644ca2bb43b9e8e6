package docker

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	probe "github.com/cutover/cutover/internal/health"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
	"github.com/cutover/cutover/internal/spec"
)

// TestDefaultReadinessWaitsForTheApp starts an image without a HEALTHCHECK whose app sleeps
// before it listens, probes it with the default readiness probe (TCP) where Status says
// probes and traffic reach it, and once the probe says ready sends a bounded loop of
// requests there and to the published address in turn: none may fail. Docker's
// published-port forwarder accepts connections before the app listens, so a probe of the
// published port would call the instance ready at once and the first requests would fail.
func TestDefaultReadinessWaitsForTheApp(t *testing.T) {
	d := newTestDriver(t, t.TempDir(), Options{})
	s := startApp(t, d, dockertest.DemoImage(t), map[string]string{"STARTUP_DELAY": "1500ms"})
	st := waitStatus(t, d, s.ID, "running", func(s runtime.Status) bool { return s.State == runtime.StateRunning && s.Addr != "" })
	if !strings.HasPrefix(st.Addr, "127.0.0.1:") || st.DirectAddr == "" || st.DirectAddr == st.Addr {
		t.Errorf("Addr %q, DirectAddr %q: want a published loopback port and the container's own address", st.Addr, st.DirectAddr)
	}

	probes := spec.Probes{Readiness: &spec.Probe{TCP: &spec.TCPProbe{}, Period: spec.Duration(100 * time.Millisecond)}}
	ready := make(chan struct{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		probe.NewProber(probes, probe.Target{Addr: st.Reach()}, nil).Run(ctx, func(r probe.Result) {
			if r.Ready {
				select {
				case <-ready:
				default:
					close(ready)
				}
			}
		})
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatal("instance never ready after 20s")
	}

	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	const n = 50
	var failed []string
	for i := range n {
		addr := st.Reach()
		if i%2 == 1 {
			addr = st.Addr
		}
		if err := get(c, "http://"+addr+"/"); err != nil {
			failed = append(failed, fmt.Sprintf("request %d: %v", i, err))
		}
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d requests after readiness failed, first: %s", len(failed), n, failed[0])
	}
}

// get reports whether GET url answered 200.
func get(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}
