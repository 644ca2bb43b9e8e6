package daemon

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/loadgen"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/testbin"
	"github.com/cutover/cutover/internal/testdisk"
)

// startAt runs a daemon over the state directory state, like newHarness; stop is idempotent.
func startAt(t *testing.T, state string, logOut io.Writer) *harness {
	t.Helper()
	return startWith(t, Options{StateDir: state, Logger: slog.New(slog.NewTextHandler(logOut, nil))})
}

// shortLoad sends 400 requests at 200/s to listen and fails t unless every request sent got
// an answer below 500. On a busy machine the generator may not send a few (all workers
// waiting): those are counted apart and are no failure of the server.
func shortLoad(t *testing.T, listen, what string) {
	t.Helper()
	sum, err := loadgen.Run(context.Background(), loadgen.Config{URL: "http://" + listen + "/", Rate: 200,
		MaxRequests: 400, Duration: 10 * time.Second, Workers: 512}, nil)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if sum.Failed != 0 || sum.OK != sum.Sent || sum.Sent < 300 {
		t.Errorf("load %s: %s; want every request sent (at least 300 of 400) answered, 0 failed", what, sum)
	}
	t.Logf("load %s: %s", what, sum)
}

// assertRefused checks that a change was refused with 503 naming the state file and osErr.
func assertRefused(t *testing.T, what string, err error, stateFile string, osErr syscall.Errno) {
	t.Helper()
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != 503 || !errors.Is(err, api.ErrUnavailable) {
		t.Fatalf("%s on a broken disk: %v, want a 503", what, err)
	}
	if msg := err.Error(); !strings.Contains(msg, stateFile) || !strings.Contains(msg, osErr.Error()) {
		t.Errorf("%s refused with %q, want the state file %s and %q named", what, msg, stateFile, osErr.Error())
	}
	t.Logf("%s: %v", what, err)
}

// assertIntact opens the state file as a new daemon would (quick_check included) and
// checks the service's revisions.
func assertIntact(t *testing.T, stateFile string, revisions int) {
	t.Helper()
	st, err := store.Open(context.Background(), stateFile)
	if err != nil {
		t.Fatalf("reopen state: %v", err)
	}
	defer st.Close()
	revs, err := st.ListRevisions(context.Background(), "web")
	if err != nil || len(revs) != revisions {
		t.Errorf("state holds %d revisions of web (%v), want %d", len(revs), err, revisions)
	}
}

// TestFullDiskRefusesChangesAndKeepsServing puts the state directory on a small tmpfs, fills
// it, and checks: deploys and flag changes are refused with a 503 naming the state file and
// ENOSPC, the route keeps answering, nothing half-written is kept, and once space is freed a
// deploy succeeds without a restart.
func TestFullDiskRefusesChangesAndKeepsServing(t *testing.T) {
	state := testdisk.Tmpfs(t, 32<<20)
	stateFile := filepath.Join(state, "state.db")
	h := startAt(t, state, io.Discard)
	listen := freeAddr(t)
	s := appSpec{Name: "web", Listen: listen, Version: "v1"}
	if got := h.wait(h.deploy(s).ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("deploy v1: %s %s", got.Status, got.Reason)
	}
	before := snapshot(t, h)

	free := testdisk.Fill(t, state)
	s.Version = "v2"
	_, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: "web", Spec: h.yaml(s), Who: "test"})
	assertRefused(t, "deploy", err, stateFile, syscall.ENOSPC)
	_, err = h.client.PutFlag(context.Background(), "test", boolFlag("disk-full-flag"))
	assertRefused(t, "put flag", err, stateFile, syscall.ENOSPC)

	shortLoad(t, listen, "on a full disk")
	assertServes(t, listen, "v1")
	if after := snapshot(t, h); after != before {
		t.Errorf("state after refused changes: %s, want %s", after, before)
	}
	if _, err := h.client.Flag(context.Background(), "disk-full-flag"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("refused flag: %v, want not found", err)
	}
	assertIntact(t, stateFile, 1)

	free()
	if got := h.wait(h.deploy(s).ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("deploy v2 after space was freed: %s %s", got.Status, got.Reason)
	}
	assertServes(t, listen, "v2")
	h.stop()
	assertIntact(t, stateFile, 2)
}

// TestReadOnlyStateRefusesChangesAndKeepsServing puts the state directory on an ext4 image
// and makes the kernel turn it read-only, as it does after an I/O error: changes are refused
// with a 503 naming EROFS, the route keeps answering; the daemon stops cleanly, and after
// the file system is repaired a new daemon finds the state intact and deploys.
func TestReadOnlyStateRefusesChangesAndKeepsServing(t *testing.T) {
	disk := testdisk.NewExt4(t, 64)
	state := filepath.Join(disk.Dir, "state")
	stateFile := filepath.Join(state, "state.db")
	h := startAt(t, state, io.Discard)
	listen := freeAddr(t)
	s := appSpec{Name: "web", Listen: listen, Version: "v1"}
	if got := h.wait(h.deploy(s).ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("deploy v1: %s %s", got.Status, got.Reason)
	}

	disk.Fail(t)
	s.Version = "v2"
	_, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: "web", Spec: h.yaml(s), Who: "test"})
	assertRefused(t, "deploy", err, stateFile, syscall.EROFS)
	shortLoad(t, listen, "on a read-only disk")
	assertServes(t, listen, "v1")
	// Instances outlive the daemon and hold their logs open; the process driver refuses
	// to stop one it cannot record as stopped. A reboot would end them: so does the test.
	h.stop()
	testdisk.KillHolders(t, disk.Dir)
	disk.Repair(t)
	assertIntact(t, stateFile, 1)
	h = startAt(t, state, io.Discard)
	if got := h.wait(h.deploy(s).ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("deploy v2 after repair: %s %s", got.Status, got.Reason)
	}
	assertServes(t, listen, "v2")
}

// TestServeRefusesStateItCannotUse runs the real binary over a corrupted state file and over
// one from a newer cutover: it exits non-zero with a message naming the file, and the file's
// bytes are unchanged.
func TestServeRefusesStateItCannotUse(t *testing.T) {
	cases := map[string]struct {
		damage func(t *testing.T, path string)
		want   string
	}{
		"newer schema": {func(t *testing.T, path string) { rawSQL(t, path, "PRAGMA user_version = 999") },
			"has schema version 999"},
		"corrupted": {corruptPages, "corrupted"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			state := t.TempDir()
			path := filepath.Join(state, "state.db")
			seedState(t, path)
			c.damage(t, path)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, testbin.Cutover(t), "serve", "--state", state, "--listen", "127.0.0.1:0").CombinedOutput()
			if err == nil {
				t.Fatalf("serve started over a %s state file:\n%s", name, out)
			}
			if !strings.Contains(string(out), path) || !strings.Contains(string(out), c.want) {
				t.Errorf("serve over a %s state file said %q, want the file named and %q", name, out, c.want)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(after) != string(before) {
				t.Errorf("serve changed the %s state file", name)
			}
		})
	}
}

// seedState makes a state file holding a few hundred events, as a daemon that ran a while.
func seedState(t *testing.T, path string) {
	t.Helper()
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	for range 500 {
		if _, err := st.AddEvent(context.Background(), store.Event{Type: "seed", Message: strings.Repeat("x", 200)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// rawSQL runs statements on the file with a plain connection, past the store's checks.
func rawSQL(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// corruptPages overwrites three pages in the middle of the file.
func corruptPages(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(strings.Repeat("\xa5", 3*4096)), 8*4096); err != nil {
		t.Fatal(err)
	}
}
