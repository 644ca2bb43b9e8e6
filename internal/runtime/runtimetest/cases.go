package runtimetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/runtime"
)

func testStartServes(t *testing.T, h Harness) {
	d := newDriver(t, h, t.TempDir())
	version := "v-" + randHex(t)
	s := appSpec(t, h, map[string]string{"VERSION": version})
	if err := d.Check(t.Context(), s); err != nil {
		t.Fatalf("Check(demo app): %v", err)
	}
	start(t, d, s)
	st := waitRunning(t, d, s.ID)
	if st.ID != s.ID || st.Service != s.Service || st.Revision != s.Revision {
		t.Errorf("Status: got ID %q service %q revision %d, want %q %q %d",
			st.ID, st.Service, st.Revision, s.ID, s.Service, s.Revision)
	}
	if st.StartedAt.IsZero() {
		t.Errorf("Status.StartedAt is zero for a running instance")
	}
	_, body := waitServes(t, st.Addr)
	if !strings.Contains(body, version) {
		t.Errorf("GET / body = %q, want it to contain VERSION %q", body, version)
	}
}

func testEnv(t *testing.T, h Harness) {
	d := newDriver(t, h, t.TempDir())
	instance := "inst-" + randHex(t)
	s := appSpec(t, h, map[string]string{"INSTANCE": instance})
	start(t, d, s)
	resp, _ := waitServes(t, waitRunning(t, d, s.ID).Addr)
	if got := resp.Header.Get("X-Instance"); got != instance {
		t.Errorf("X-Instance = %q, want INSTANCE from spec.Env %q", got, instance)
	}
}

func testLogs(t *testing.T, h Harness) {
	d := newDriver(t, h, t.TempDir())
	s := appSpec(t, h, nil)
	start(t, d, s)
	waitRunning(t, d, s.ID)
	waitLogs(t, d, s.ID, "listening on")
}

func testTwoInstances(t *testing.T, h Harness) {
	d := newDriver(t, h, t.TempDir())
	a := appSpec(t, h, map[string]string{"VERSION": "a-" + randHex(t)})
	b := appSpec(t, h, map[string]string{"VERSION": "b-" + randHex(t)})
	start(t, d, a, b)
	sa, sb := waitRunning(t, d, a.ID), waitRunning(t, d, b.ID)
	if sa.Addr == sb.Addr {
		t.Fatalf("two instances share address %s", sa.Addr)
	}
	for _, c := range []struct{ addr, version string }{{sa.Addr, a.Env["VERSION"]}, {sb.Addr, b.Env["VERSION"]}} {
		if _, body := waitServes(t, c.addr); !strings.Contains(body, c.version) {
			t.Errorf("GET http://%s/ = %q, want VERSION %q", c.addr, body, c.version)
		}
	}
}

func testStopGraceful(t *testing.T, h Harness) {
	d := newDriver(t, h, t.TempDir())
	const delay = 300 * time.Millisecond
	s := appSpec(t, h, map[string]string{"SHUTDOWN_DELAY": delay.String()})
	start(t, d, s)
	st := waitRunning(t, d, s.ID)
	waitServes(t, st.Addr)
	begin := time.Now()
	if err := d.Stop(t.Context(), s.ID); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if took := time.Since(begin); took < delay {
		t.Errorf("Stop returned after %s, before the app's SHUTDOWN_DELAY %s ended", took, delay)
	}
	got, err := d.Status(t.Context(), s.ID)
	if err != nil {
		t.Fatalf("Status after Stop: %v", err)
	}
	if got.State != runtime.StateExited || got.ExitCode != 0 {
		t.Errorf("after graceful Stop: state %q exit code %d, want %q 0", got.State, got.ExitCode, runtime.StateExited)
	}
	checkRefuses(t, st.Addr)
	waitLogs(t, d, s.ID, "shutting down")
}

func testStopKill(t *testing.T, h Harness) {
	d := newDriver(t, h, t.TempDir())
	s := appSpec(t, h, map[string]string{"IGNORE_SIGTERM": "1"})
	s.StopGrace = 500 * time.Millisecond
	start(t, d, s)
	st := waitRunning(t, d, s.ID)
	waitServes(t, st.Addr)
	begin := time.Now()
	if err := d.Stop(t.Context(), s.ID); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	took := time.Since(begin)
	if took < s.StopGrace-50*time.Millisecond || took > s.StopGrace+5*time.Second {
		t.Errorf("Stop of an app ignoring SIGTERM took %s, want about its StopGrace %s", took, s.StopGrace)
	}
	got, err := d.Status(t.Context(), s.ID)
	if err != nil || got.State != runtime.StateExited {
		t.Errorf("after Stop: status %+v, error %v; want state exited", got, err)
	}
	checkRefuses(t, st.Addr)
}

func testCrashLoop(t *testing.T, h Harness) {
	d := newDriver(t, h, t.TempDir())
	s := appSpec(t, h, map[string]string{"EXIT_AFTER": "200ms", "EXIT_CODE": "3"})
	start(t, d, s)
	seen := map[int]bool{}
	st := waitStatus(t, d, s.ID, "crash_loop", func(st runtime.Status) bool {
		seen[st.Restarts] = true
		return st.State == runtime.StateCrashLoop
	})
	for n := range 4 {
		if !seen[n] {
			t.Errorf("never saw Restarts = %d on the way to crash_loop (saw %v)", n, seen)
		}
	}
	if st.ExitCode != 3 || st.Message == "" {
		t.Errorf("crash_loop status: exit code %d message %q, want 3 and the exit status", st.ExitCode, st.Message)
	}
	// Still retried with backoff.
	waitStatus(t, d, s.ID, "restarted after crash_loop", func(x runtime.Status) bool {
		return x.Restarts > st.Restarts
	})
	if err := d.Stop(t.Context(), s.ID); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	stopped, _ := d.Status(t.Context(), s.ID)
	time.Sleep(time.Second)
	later, err := d.Status(t.Context(), s.ID)
	if err != nil || later.State != runtime.StateExited || later.Restarts != stopped.Restarts {
		t.Errorf("1s after Stop: status %+v, error %v; want exited with %d restarts", later, err, stopped.Restarts)
	}
}

func testStartTwice(t *testing.T, h Harness) {
	d := newDriver(t, h, t.TempDir())
	s := appSpec(t, h, nil)
	start(t, d, s)
	first := waitRunning(t, d, s.ID)
	if err := d.Start(t.Context(), []runtime.InstanceSpec{s}); err != nil {
		t.Fatalf("second Start of running %s: %v", s.ID, err)
	}
	second := waitRunning(t, d, s.ID)
	if second.PID != first.PID || second.Addr != first.Addr || !second.StartedAt.Equal(first.StartedAt) {
		t.Errorf("second Start replaced the instance: before %+v, after %+v", first, second)
	}
	list, err := d.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if n := countID(list, s.ID); n != 1 {
		t.Errorf("List holds %s %d times, want 1", s.ID, n)
	}
}

func countID(list []runtime.Status, id string) int {
	n := 0
	for _, s := range list {
		if s.ID == id {
			n++
		}
	}
	return n
}

func testMissingCommand(t *testing.T, h Harness) {
	d := newDriver(t, h, t.TempDir())
	s := appSpec(t, h, nil)
	s.Command = "./cutover-no-such-command"
	if s.Image != "" {
		s.Image = "cutover.invalid/no-such-image:0"
	}
	named := func(err error) bool {
		return err != nil && (strings.Contains(err.Error(), s.Command) ||
			(s.Image != "" && strings.Contains(err.Error(), s.Image)))
	}
	if err := d.Check(t.Context(), s); !named(err) {
		t.Errorf("Check of a missing command: got %v, want an error naming it", err)
	}
	err := d.Start(t.Context(), []runtime.InstanceSpec{s})
	if !named(err) {
		t.Fatalf("Start of a missing command: got %v, want an error naming it", err)
	}
	list, err := d.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if n := countID(list, s.ID); n != 0 {
		t.Errorf("List holds the instance that failed to start: %+v", list)
	}
	if _, err := d.Status(t.Context(), s.ID); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Status of the instance that failed to start: got %v, want ErrNotFound", err)
	}
}

func testUnknown(t *testing.T, h Harness) {
	d := newDriver(t, h, t.TempDir())
	if err := d.Stop(t.Context(), "web-1-unknown"); err != nil {
		t.Errorf("Stop of an unknown ID: %v, want nil", err)
	}
	if _, err := d.Status(t.Context(), "web-1-unknown"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Status of an unknown ID: got %v, want ErrNotFound", err)
	}
	if err := d.Restart(t.Context(), "web-1-unknown"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Restart of an unknown ID: got %v, want ErrNotFound", err)
	}
	if err := d.Adopt(t.Context(), []string{"web-1-unknown"}); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Adopt of an unknown ID: got %v, want ErrNotFound", err)
	}
	list, err := d.List(t.Context())
	if err != nil || len(list) != 0 {
		t.Errorf("List of a new driver: got %+v, %v; want empty", list, err)
	}
}

func testRestart(t *testing.T, h Harness) {
	d := newDriver(t, h, t.TempDir())
	s := appSpec(t, h, nil)
	start(t, d, s)
	before := waitRunning(t, d, s.ID)
	waitServes(t, before.Addr)
	if err := d.Restart(t.Context(), s.ID); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	after := waitRunning(t, d, s.ID)
	if after.PID == before.PID && after.StartedAt.Equal(before.StartedAt) {
		t.Errorf("Restart kept the same process: before %+v, after %+v", before, after)
	}
	waitServes(t, after.Addr)
	waitLogs(t, d, s.ID, "shutting down")
}

func testRemove(t *testing.T, h Harness) {
	d := newDriver(t, h, t.TempDir())
	s := appSpec(t, h, nil)
	start(t, d, s)
	waitRunning(t, d, s.ID)
	if err := d.Remove(t.Context(), s.ID); err == nil {
		t.Errorf("Remove of a running instance: got nil, want an error")
	}
	if err := d.Stop(t.Context(), s.ID); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := d.Remove(t.Context(), s.ID); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := d.Status(t.Context(), s.ID); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Status after Remove: got %v, want ErrNotFound", err)
	}
	list, err := d.List(t.Context())
	if err != nil || countID(list, s.ID) != 0 {
		t.Errorf("List after Remove: got %+v, %v; want no %s", list, err, s.ID)
	}
}

func testLogsFollow(t *testing.T, h Harness) {
	d := newDriver(t, h, t.TempDir())
	s := appSpec(t, h, nil)
	start(t, d, s)
	waitRunning(t, d, s.ID)
	waitLogs(t, d, s.ID, "listening on")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var buf syncBuffer
	errc := make(chan error, 1)
	go func() { errc <- d.Logs(ctx, s.ID, true, &buf) }()
	waitBuffer(t, &buf, "listening on")
	if strings.Contains(buf.String(), "shutting down") {
		t.Fatalf("log has %q before Stop", "shutting down")
	}
	if err := d.Stop(t.Context(), s.ID); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	waitBuffer(t, &buf, "shutting down")
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Logs(follow) after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("Logs(follow) did not return 5s after its context was cancelled")
	}
}

func waitBuffer(t *testing.T, b *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		if strings.Contains(b.String(), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("followed logs: no %q after %s; got:\n%s", want, waitTimeout, b.String())
}
