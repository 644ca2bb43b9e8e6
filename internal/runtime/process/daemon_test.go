package process

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/crashpoint"
	"github.com/cutover/cutover/internal/runtime"
)

// The daemon helper is this test binary run again with helperDirEnv set: it starts the demo
// app with a driver over that dir, prints "started", and waits to be killed.
const (
	helperDirEnv = "CUTOVER_PROCESS_TEST_HELPER_DIR"
	helperAppEnv = "CUTOVER_PROCESS_TEST_HELPER_APP"
	helperID     = "web-1-survivor"
)

func runDaemonHelper(dir string) int {
	d, err := New(dir, nil, Options{Crash: crashpoint.FromEnv()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	spec := runtime.InstanceSpec{ID: helperID, Command: os.Getenv(helperAppEnv), StopGrace: 5 * time.Second,
		Env: map[string]string{"TEST_MARK": dir}}
	if err := d.Start(context.Background(), []runtime.InstanceSpec{spec}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("started")
	time.Sleep(time.Hour)
	return 0
}

func TestInstanceSurvivesDaemonKill(t *testing.T) {
	dir := t.TempDir()
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperDirEnv+"="+dir, helperAppEnv+"="+demoApp)
	helper.Stderr = os.Stderr
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatalf("start daemon helper: %v", err)
	}
	t.Cleanup(func() {
		helper.Process.Kill()
		helper.Wait()
		killRecorded(t, dir)
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "started\n" {
		t.Fatalf("daemon helper said %q, %v; want started", line, err)
	}
	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	helper.Wait()

	d := newTestDriver(t, dir, testOptions)
	st := waitServing(t, d, helperID)
	_, ticks, err := procStat(st.PID)
	if err != nil {
		t.Fatalf("survivor pid %d: %v", st.PID, err)
	}
	if err := d.Adopt(t.Context(), []string{helperID}); err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	if err := d.Stop(t.Context(), helperID); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if running(st.PID, ticks) {
		t.Errorf("survivor %d still runs after Stop", st.PID)
	}
	if code, _, err := httpGet(st.Addr); err == nil {
		t.Errorf("GET http://%s/ after Stop answered %d", st.Addr, code)
	}
}

// startSleep starts a long sleep in its own process group, killed when t ends.
func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd
}

func TestPIDReuseDetected(t *testing.T) {
	sleep := startSleep(t)
	pid := sleep.Process.Pid
	_, ticks, err := procStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		ticks uint64
		want  runtime.State
	}{
		{"same start time", ticks, runtime.StateRunning},
		{"other start time", ticks + 1, runtime.StateExited},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := New(dir, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			rec := record{
				Spec: runtime.InstanceSpec{ID: "web-1-old", Command: "sleep", Args: []string{"60"}},
				PID:  pid, PGID: pid, Port: 1, StartTicks: c.ticks, StartedAt: time.Now(),
			}
			if err := w.recs.save(rec); err != nil {
				t.Fatal(err)
			}
			d, err := New(dir, nil, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			list, err := d.List(t.Context())
			if err != nil || len(list) != 1 || list[0].State != c.want {
				t.Fatalf("List: got %+v, %v; want one instance %s", list, err, c.want)
			}
		})
	}
	// A record whose process is not this one must never get it signalled.
	dir := t.TempDir()
	d := newTestDriver(t, dir, testOptions)
	rec := record{Spec: runtime.InstanceSpec{ID: "web-1-old", Command: "sleep"}, PID: pid, PGID: pid, StartTicks: ticks + 1}
	if err := d.recs.save(rec); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(t.Context(), "web-1-old"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !running(pid, ticks) {
		t.Errorf("Stop of a record with a reused pid killed process %d", pid)
	}
}

// TestKillAtEachSpawnStep runs the daemon helper with a crash point at each step of starting
// an instance (before and after the record written before the fork, right after the fork,
// after the pid's record): the helper dies there, and a new driver over the same dir either
// knows no instance and no process of it runs, or lists it running as exactly the one
// process that runs, which it then stops. No process is ever left that no record claims.
func TestKillAtEachSpawnStep(t *testing.T) {
	for _, step := range []string{"spawn-record-before", "spawn-fork-before", "spawn-fork-after", "spawn-record-after"} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			helper := exec.Command(os.Args[0], "-test.run=^$")
			helper.Env = append(os.Environ(), helperDirEnv+"="+dir, helperAppEnv+"="+demoApp, crashpoint.Env+"="+step)
			helper.Stderr = os.Stderr
			if err := helper.Start(); err != nil {
				t.Fatalf("start daemon helper: %v", err)
			}
			err := helper.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("daemon helper ended with %v, want killed at %s", err, step)
			}
			t.Cleanup(func() { killMarked(dir) })
			procs := markedPIDs(dir)
			d := newTestDriver(t, dir, testOptions)
			list, err := d.List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var live []runtime.Status
			for _, st := range list {
				if st.State == runtime.StateRunning {
					live = append(live, st)
				}
			}
			switch {
			case len(procs) == 0 && len(live) == 0:
				t.Logf("killed at %s: no process, no running instance", step)
				return
			case len(procs) != 1 || len(live) != 1 || live[0].PID != procs[0]:
				t.Fatalf("after a kill at %s: processes %v, running instances %+v; want the one process claimed", step, procs, live)
			}
			t.Logf("killed at %s: process %d claimed by %s", step, procs[0], live[0].ID)
			if err := d.Stop(t.Context(), helperID); err != nil {
				t.Fatal(err)
			}
			if left := markedPIDs(dir); len(left) != 0 {
				t.Errorf("processes left after Stop: %v", left)
			}
		})
	}
}

// markedPIDs lists the live processes whose environment holds TEST_MARK=mark.
func markedPIDs(mark string) []int {
	entries, _ := os.ReadDir("/proc")
	needle := []byte("\x00TEST_MARK=" + mark + "\x00")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !bytes.Contains(append(append([]byte{0}, env...), 0), needle) {
			continue
		}
		if state, _, err := procStat(pid); err == nil && state != 'Z' && state != 'X' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killMarked kills the processes markedPIDs lists.
func killMarked(mark string) {
	for _, pid := range markedPIDs(mark) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
