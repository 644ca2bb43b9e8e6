package process

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/runtime"
	"github.com/google/go-cmp/cmp"
)

func TestPlanRestart(t *testing.T) {
	o := Options{
		BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second, CrashLoopRestarts: 3,
		CrashLoopWindow: time.Minute, StableAfter: 10 * time.Second,
	}.withDefaults()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	cases := []struct {
		name      string
		history   crashHistory
		startedAt time.Time
		now       time.Time
		wantDelay time.Duration
		wantState runtime.State
		wantNext  crashHistory
	}{
		{"first crash", crashHistory{}, t0, at(time.Second),
			100 * time.Millisecond, runtime.StateRestarting,
			crashHistory{restarts: []time.Time{at(time.Second)}, streak: 1}},
		{"third crash doubles twice", crashHistory{restarts: []time.Time{at(1), at(2)}, streak: 2}, at(3), at(4),
			400 * time.Millisecond, runtime.StateRestarting,
			crashHistory{restarts: []time.Time{at(1), at(2), at(4)}, streak: 3}},
		{"fourth crash in window is a crash loop", crashHistory{restarts: []time.Time{at(1), at(2), at(3)}, streak: 3}, at(4), at(5),
			800 * time.Millisecond, runtime.StateCrashLoop,
			crashHistory{restarts: []time.Time{at(1), at(2), at(3), at(5)}, streak: 4}},
		{"delay capped", crashHistory{streak: 10}, at(0), at(1),
			time.Second, runtime.StateRestarting,
			crashHistory{restarts: []time.Time{at(1)}, streak: 11}},
		{"restarts out of the window forgotten", crashHistory{restarts: []time.Time{at(0), at(time.Second), at(2 * time.Second)}, streak: 1}, at(2 * time.Minute), at(2*time.Minute + time.Second),
			200 * time.Millisecond, runtime.StateRestarting,
			crashHistory{restarts: []time.Time{at(2*time.Minute + time.Second)}, streak: 2}},
		{"stable run resets backoff", crashHistory{restarts: []time.Time{at(1), at(2), at(3)}, streak: 5}, at(4), at(20 * time.Second),
			100 * time.Millisecond, runtime.StateCrashLoop,
			crashHistory{restarts: []time.Time{at(1), at(2), at(3), at(20 * time.Second)}, streak: 1}},
		{"unknown start time keeps backoff", crashHistory{streak: 1}, time.Time{}, at(time.Hour),
			200 * time.Millisecond, runtime.StateRestarting,
			crashHistory{restarts: []time.Time{at(time.Hour)}, streak: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next, delay, state := planRestart(o, c.history, c.startedAt, c.now)
			if delay != c.wantDelay || state != c.wantState {
				t.Errorf("delay, state = %s, %s; want %s, %s", delay, state, c.wantDelay, c.wantState)
			}
			if diff := cmp.Diff(next, c.wantNext, cmp.AllowUnexported(crashHistory{})); diff != "" {
				t.Errorf("history (-got +want):\n%s", diff)
			}
		})
	}
}

func TestProcStat(t *testing.T) {
	state, start, err := procStat(os.Getpid())
	if err != nil || start == 0 || !strings.ContainsRune("RS", rune(state)) {
		t.Errorf("procStat(self) = %q, %d, %v; want R or S, a start time", state, start, err)
	}
	if !running(os.Getpid(), start) || running(os.Getpid(), start+1) || running(0, 0) {
		t.Errorf("running(self) does not tell start times apart")
	}
	// An exited child not yet reaped is a zombie: not running.
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_, zstart, _ := procStat(cmd.Process.Pid)
	deadline := time.Now().Add(5 * time.Second)
	for running(cmd.Process.Pid, zstart) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if state, _, err := procStat(cmd.Process.Pid); err != nil || state != 'Z' {
		t.Errorf("procStat(exited child) state %q, %v; want Z", state, err)
	}
	cmd.Wait()
}

func TestResolveCommand(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		command  string
		dir      string
		wantPath string
		wantErr  error  // errors.Is target
		wantText string // substring of the error
	}{
		{"relative to dir", "./run.sh", dir, script, nil, ""},
		{"absolute", script, "", script, nil, ""},
		{"in PATH", "sh", "", "", nil, ""},
		{"missing relative", "./nope", dir, "", exec.ErrNotFound, `exec: "./nope": executable file not found`},
		{"missing in PATH", "cutover-no-such-command", "", "", exec.ErrNotFound, `"cutover-no-such-command"`},
		{"not executable", "./data.txt", dir, "", fs.ErrPermission, "permission denied"},
		{"directory", "./", dir, "", fs.ErrPermission, "permission denied"},
		{"missing dir", "sh", filepath.Join(dir, "gone"), "", fs.ErrNotExist, "gone"},
		{"dir is a file", "sh", script, "", nil, "not a directory"},
		{"empty", "", "", "", nil, "command is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path, err := resolveCommand(runtime.InstanceSpec{Command: c.command, Dir: c.dir})
			if c.wantText == "" {
				if err != nil || (c.wantPath != "" && path != c.wantPath) || !filepath.IsAbs(path) {
					t.Errorf("resolveCommand(%q in %q) = %q, %v; want %q", c.command, c.dir, path, err, c.wantPath)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantText) || (c.wantErr != nil && !errors.Is(err, c.wantErr)) {
				t.Errorf("resolveCommand(%q in %q) error = %v; want %q wrapping %v", c.command, c.dir, err, c.wantText, c.wantErr)
			}
		})
	}
}

func TestEnviron(t *testing.T) {
	t.Setenv("PATH", "/daemon/bin")
	t.Setenv("HOME", "/daemon/home")
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"daemon PATH and HOME kept", map[string]string{"VERSION": "v1"},
			[]string{"HOME=/daemon/home", "PATH=/daemon/bin", "PORT=8080", "VERSION=v1"}},
		{"spec wins over daemon", map[string]string{"PATH": "/app/bin", "HOME": "/app"},
			[]string{"HOME=/app", "PATH=/app/bin", "PORT=8080"}},
		{"PORT is the driver's", map[string]string{"PORT": "1"},
			[]string{"HOME=/daemon/home", "PATH=/daemon/bin", "PORT=8080"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(environ(c.env, 8080), c.want); diff != "" {
				t.Errorf("environ(%v) (-got +want):\n%s", c.env, diff)
			}
		})
	}
}

func TestSaveRecordLeavesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	d, err := New(dir, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := record{Spec: runtime.InstanceSpec{ID: "web-1-a", Command: "x", Env: map[string]string{"A": "b"}}, PID: 7, Port: 9}
	for range 3 {
		if err := d.recs.save(want); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "instances"))
	if len(entries) != 1 || entries[0].Name() != "web-1-a.json" {
		t.Errorf("instances dir holds %v, want only web-1-a.json", entries)
	}
	got, err := d.recs.load("web-1-a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("record round trip (-got +want):\n%s", diff)
	}
}
