package process

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/runtime"
)

// countProcsWithEnv counts the live processes whose environment holds kv.
func countProcsWithEnv(t *testing.T, kv string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		for _, v := range bytes.Split(b, []byte{0}) {
			if string(v) == kv {
				if st, _, err := procStat(pid); err == nil && st != 'Z' {
					n++
				}
			}
		}
	}
	return n
}

func TestStartTwiceRunsOneProcess(t *testing.T) {
	marker := "CUTOVER_TEST_MARKER=" + strconv.FormatInt(time.Now().UnixNano(), 36)
	key, val, _ := bytes.Cut([]byte(marker), []byte("="))
	spec := appSpec(map[string]string{string(key): string(val)})
	spec.ID = "web-1-twice"
	dir := t.TempDir()
	d := newTestDriver(t, dir, testOptions)
	if err := d.Start(t.Context(), []runtime.InstanceSpec{spec}); err != nil {
		t.Fatal(err)
	}
	waitServing(t, d, spec.ID)
	// Twice more: from this driver, and from a second driver over the same dir.
	if err := d.Start(t.Context(), []runtime.InstanceSpec{spec}); err != nil {
		t.Fatal(err)
	}
	d2 := newTestDriver(t, dir, testOptions)
	if err := d2.Start(t.Context(), []runtime.InstanceSpec{spec}); err != nil {
		t.Fatal(err)
	}
	if n := countProcsWithEnv(t, marker); n != 1 {
		t.Errorf("%d processes run with %s, want 1", n, marker)
	}
	if err := d.Stop(t.Context(), spec.ID); err != nil {
		t.Fatal(err)
	}
	if n := countProcsWithEnv(t, marker); n != 0 {
		t.Errorf("%d processes run with %s after Stop, want 0", n, marker)
	}
}

func TestRestartMovesOffTakenPort(t *testing.T) {
	d := newTestDriver(t, t.TempDir(), Options{BackoffBase: time.Second, PollInterval: 20 * time.Millisecond})
	spec := appSpec(map[string]string{"EXIT_AFTER": "300ms"})
	spec.ID = "web-1-port"
	if err := d.Start(t.Context(), []runtime.InstanceSpec{spec}); err != nil {
		t.Fatal(err)
	}
	first := waitServing(t, d, spec.ID)
	waitFor(t, "the crash", func() bool {
		st, err := d.Status(t.Context(), spec.ID)
		return err == nil && st.State == runtime.StateRestarting
	})
	l, err := net.Listen("tcp", first.Addr)
	if err != nil {
		t.Fatalf("take the crashed instance's port: %v", err)
	}
	defer l.Close()
	second := waitServing(t, d, spec.ID)
	if second.Addr == first.Addr || second.Restarts != 1 {
		t.Errorf("after restart with its port taken: %+v, want a new address than %s and 1 restart", second, first.Addr)
	}
	rec, err := d.recs.load(spec.ID)
	if err != nil || "127.0.0.1:"+strconv.Itoa(rec.Port) != second.Addr {
		t.Errorf("record port %d (%v), want the new address %s", rec.Port, err, second.Addr)
	}
	d.Stop(t.Context(), spec.ID)
}

func TestStartFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	d := newTestDriver(t, dir, testOptions)
	spec := appSpec(nil)
	spec.ID = "web-1-x"
	spec.Command = "./nope"
	err := d.Start(t.Context(), []runtime.InstanceSpec{spec})
	want := `start web-1-x: exec: "./nope": executable file not found`
	if err == nil || err.Error() != want {
		t.Errorf("Start: got %v, want %s", err, want)
	}
	for _, sub := range []string{"instances", "logs"} {
		entries, _ := os.ReadDir(filepath.Join(dir, sub))
		if len(entries) != 0 {
			t.Errorf("%s after a failed Start: %v, want empty", sub, entries)
		}
	}
}

func TestRemoveKeepsLog(t *testing.T) {
	dir := t.TempDir()
	d := newTestDriver(t, dir, testOptions)
	spec := appSpec(nil)
	spec.ID = "web-1-rm"
	if err := d.Start(t.Context(), []runtime.InstanceSpec{spec}); err != nil {
		t.Fatal(err)
	}
	waitServing(t, d, spec.ID)
	if err := d.Stop(t.Context(), spec.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(t.Context(), spec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.recs.path(spec.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("record after Remove: %v, want it gone", err)
	}
	if b, err := os.ReadFile(d.logPath(spec.ID)); err != nil || !bytes.Contains(b, []byte("listening on")) {
		t.Errorf("log after Remove: %q, %v; want it kept", b, err)
	}
}

func TestAdoptRestartsInstanceThatDiedUnwatched(t *testing.T) {
	dir := t.TempDir()
	a := newTestDriver(t, dir, testOptions)
	spec := appSpec(nil)
	spec.ID = "web-1-unwatched"
	if err := a.Start(t.Context(), []runtime.InstanceSpec{spec}); err != nil {
		t.Fatal(err)
	}
	st := waitServing(t, a, spec.ID)
	a.Close()
	// It dies while no daemon watches it.
	if err := (&proc{pid: st.PID}).signalGroup(9); err != nil {
		t.Fatal(err)
	}
	b := newTestDriver(t, dir, testOptions)
	waitFor(t, "the new driver to see it exited", func() bool {
		s, err := b.Status(t.Context(), spec.ID)
		return err == nil && s.State == runtime.StateExited
	})
	if err := b.Adopt(t.Context(), []string{spec.ID}); err != nil {
		t.Fatal(err)
	}
	again := waitServing(t, b, spec.ID)
	if again.PID == st.PID || again.Restarts != 1 {
		t.Errorf("after Adopt: %+v, want a new process and 1 restart", again)
	}
	b.Stop(t.Context(), spec.ID)
}
