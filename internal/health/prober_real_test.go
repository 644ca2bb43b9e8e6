package health

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// TestProberRealHTTP runs a Prober against a real server whose health endpoint flips
// between 503 and 200.
func TestProberRealHTTP(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusServiceUnavailable)
	var served503, idle atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := int(status.Load())
		if code != http.StatusOK {
			served503.Add(1)
		}
		w.WriteHeader(code)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateIdle {
			idle.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	probes := spec.Probes{Readiness: &spec.Probe{
		HTTP:             &spec.HTTPProbe{Path: "/healthz"},
		Period:           spec.Duration(20 * time.Millisecond),
		Timeout:          spec.Duration(time.Second),
		SuccessThreshold: 1,
		FailureThreshold: 3,
	}}
	pr := NewProber(probes, Target{Addr: strings.TrimPrefix(srv.URL, "http://")}, nil)
	reports := make(chan Result, 100)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		pr.Run(ctx, func(r Result) { reports <- r })
	}()
	defer func() { cancel(); <-done }()

	next := func(what string) Result {
		t.Helper()
		select {
		case r := <-reports:
			return r
		case <-time.After(10 * time.Second):
			t.Fatalf("no report while waiting for %s", what)
		}
		return Result{}
	}

	if r := next("initial"); r.Ready || !r.Started {
		t.Fatalf("initial report %+v, want started and not ready", r)
	}
	if r := next("failure threshold"); r.Ready || r.Message != "readiness: GET /healthz: status 503" {
		t.Fatalf("report %+v, want not ready with the 503 as message", r)
	}
	if n := served503.Load(); n < 3 {
		t.Errorf("not-ready message after %d failures, want failure_threshold (3)", n)
	}

	status.Store(http.StatusOK)
	if r := next("ready"); !r.Ready || r.ReadySince.IsZero() || r.Message != "" {
		t.Fatalf("report %+v after the server turned healthy, want ready", r)
	}

	served503.Store(0)
	status.Store(http.StatusServiceUnavailable)
	if r := next("not ready"); r.Ready || r.Message != "readiness: GET /healthz: status 503" {
		t.Fatalf("report %+v after the server turned unhealthy, want not ready", r)
	}
	if n := served503.Load(); n < 3 {
		t.Errorf("not ready after %d failures, want failure_threshold (3)", n)
	}
	if n := idle.Load(); n != 0 {
		t.Errorf("probe connections went idle %d times, want keep-alives off", n)
	}
}
