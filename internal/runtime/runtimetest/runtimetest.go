// Package runtimetest is the conformance suite every runtime.Driver passes: the same
// behaviour (start, address, logs, graceful and forced stop, crash restarts, adoption after
// a daemon restart, errors) checked against real instances of the demo app
// (examples/demoapp). It holds no driver-specific knowledge; a driver's own test supplies a
// Harness.
package runtimetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/runtime"
)

// Harness is what a driver's test gives the suite.
type Harness struct {
	// New returns a fresh driver over dir (called again with the same dir to simulate a
	// daemon restart). It should clean up, at the end of t, every instance left running.
	New func(t *testing.T, dir string) runtime.Driver
	// App returns an InstanceSpec that runs the demo app with extra env (ID/Service/Revision/
	// StopGrace set by the suite).
	App func(t *testing.T, env map[string]string) runtime.InstanceSpec
}

// waitTimeout bounds every wait for an instance to reach a state.
const waitTimeout = 20 * time.Second

// Run runs the conformance suite against h as parallel subtests.
func Run(t *testing.T, h Harness) {
	cases := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"start_serves", testStartServes},
		{"env", testEnv},
		{"logs", testLogs},
		{"two_instances_two_ports", testTwoInstances},
		{"stop_graceful", testStopGraceful},
		{"stop_grace_exceeded", testStopKill},
		{"crash_restarts_then_crash_loop", testCrashLoop},
		{"start_running_id_adopts", testStartTwice},
		{"missing_command", testMissingCommand},
		{"readopt_after_daemon_restart", testReadopt},
		{"adopted_crash_restarts", testAdoptedCrash},
		{"restart", testRestart},
		{"remove", testRemove},
		{"unknown_id", testUnknown},
		{"logs_follow", testLogsFollow},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, h)
		})
	}
}

// newDriver returns h.New over a fresh directory; the driver is closed at the end of t.
func newDriver(t *testing.T, h Harness, dir string) runtime.Driver {
	t.Helper()
	d := h.New(t, dir)
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close driver: %v", err)
		}
	})
	return d
}

// appSpec is the demo app with env under a new unique ID.
func appSpec(t *testing.T, h Harness, env map[string]string) runtime.InstanceSpec {
	t.Helper()
	s := h.App(t, env)
	s.ID = "web-1-" + randHex(t)
	s.Service = "web"
	s.Revision = 1
	s.StopGrace = 5 * time.Second
	return s
}

func randHex(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// start starts specs on d and stops them when t ends.
func start(t *testing.T, d runtime.Driver, specs ...runtime.InstanceSpec) {
	t.Helper()
	for _, s := range specs {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			if err := d.Stop(ctx, s.ID); err != nil {
				t.Errorf("cleanup: stop %s: %v", s.ID, err)
			}
		})
	}
	if err := d.Start(t.Context(), specs); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

// waitStatus polls id's status until ok accepts it.
func waitStatus(t *testing.T, d runtime.Driver, id, what string, ok func(runtime.Status) bool) runtime.Status {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var last runtime.Status
	var err error
	for time.Now().Before(deadline) {
		last, err = d.Status(t.Context(), id)
		if err == nil && ok(last) {
			return last
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("instance %s: not %s after %s; last status %+v, error %v", id, what, waitTimeout, last, err)
	return last
}

// waitRunning waits until id runs and has an address.
func waitRunning(t *testing.T, d runtime.Driver, id string) runtime.Status {
	t.Helper()
	return waitStatus(t, d, id, "running with an address", func(s runtime.Status) bool {
		return s.State == runtime.StateRunning && s.Addr != ""
	})
}

var client = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// get fetches http://addr/ once.
func get(addr string) (*http.Response, string, error) {
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// waitServes polls addr until GET / answers 200; it returns the response and body.
func waitServes(t *testing.T, addr string) (*http.Response, string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		resp, body, err := get(addr)
		if err == nil && resp.StatusCode == http.StatusOK {
			return resp, body
		}
		if err == nil {
			err = errors.New(resp.Status)
		}
		lastErr = err
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("GET http://%s/: no 200 after %s: %v", addr, waitTimeout, lastErr)
	return nil, ""
}

// checkRefuses fails t when addr still answers.
func checkRefuses(t *testing.T, addr string) {
	t.Helper()
	if resp, _, err := get(addr); err == nil {
		t.Errorf("GET http://%s/ after stop: got %s, want a connection error", addr, resp.Status)
	}
}

// logsOf returns id's logs so far.
func logsOf(t *testing.T, d runtime.Driver, id string) string {
	t.Helper()
	var b bytes.Buffer
	if err := d.Logs(t.Context(), id, false, &b); err != nil {
		t.Fatalf("Logs(%s): %v", id, err)
	}
	return b.String()
}

// waitLogs polls id's logs until they contain want.
func waitLogs(t *testing.T, d runtime.Driver, id, want string) string {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var got string
	for time.Now().Before(deadline) {
		if got = logsOf(t, d, id); strings.Contains(got, want) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("logs of %s: no %q after %s; got:\n%s", id, want, waitTimeout, got)
	return got
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
