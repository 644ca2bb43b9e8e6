package process

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/runtime"
)

// TestStartMovesOffTakenPort starts an instance whose requested port another process holds:
// it starts on a new port instead of failing or crashing.
func TestStartMovesOffTakenPort(t *testing.T) {
	d := newTestDriver(t, t.TempDir(), testOptions)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	spec := appSpec(nil)
	spec.ID, spec.Port = "web-1-taken", taken
	if err := d.Start(t.Context(), []runtime.InstanceSpec{spec}); err != nil {
		t.Fatalf("start on a taken port: %v", err)
	}
	st := waitServing(t, d, spec.ID)
	if st.Addr == "127.0.0.1:"+strconv.Itoa(taken) || st.Restarts != 0 {
		t.Errorf("status %+v: want a new port than %d and no restart", st, taken)
	}
	d.Stop(t.Context(), spec.ID)
}

// TestPortTakenBeforeBindIsNotACrash takes an instance's port after the driver chose it and
// before the app binds it (the app waits STARTUP_DELAY): the app exits, and the driver
// restarts it at once on a new port, without counting a crash. The backoff is a minute, so
// a restart counted as a crash would not serve within the test.
func TestPortTakenBeforeBindIsNotACrash(t *testing.T) {
	d := newTestDriver(t, t.TempDir(), Options{BackoffBase: time.Minute, CrashLoopRestarts: 1, PollInterval: 20 * time.Millisecond})
	spec := appSpec(map[string]string{"STARTUP_DELAY": "1s"})
	spec.ID = "web-1-race"
	if err := d.Start(t.Context(), []runtime.InstanceSpec{spec}); err != nil {
		t.Fatal(err)
	}
	first, err := d.Status(t.Context(), spec.ID)
	if err != nil || first.Addr == "" {
		t.Fatalf("status right after start: %+v %v", first, err)
	}
	l, err := net.Listen("tcp", first.Addr)
	if err != nil {
		t.Fatalf("take the port the app is about to bind: %v", err)
	}
	defer l.Close()
	st := waitServing(t, d, spec.ID)
	if st.Addr == first.Addr || st.Restarts != 1 || st.State != runtime.StateRunning {
		t.Errorf("after its port was taken: %+v, want running on a new port than %s after 1 restart", st, first.Addr)
	}
	inst, err := d.load(spec.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	var h crashHistory
	inst.do(func() { h = inst.history })
	if h.streak != 0 || len(h.restarts) != 0 || h.portMoves != 1 {
		t.Errorf("crash history %+v: want no crash and one port move", h)
	}
	d.Stop(t.Context(), spec.ID)
}
