package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// crashChildEnv names the state file the crash test's child process writes to.
const crashChildEnv = "CUTOVER_STORE_CRASH_CHILD"

// TestCrashChild is the crash test's child process: it writes in a loop and prints
// each event ID once AddEvent has returned, until it is killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("run only as the child of TestCrashKeepsCommittedWrites")
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	d, err := s.ActiveDeployment(ctx, "web")
	if err != nil {
		_, d, err = s.BeginDeployment(ctx, Service{Name: "web"}, Revision{}, Deployment{})
	}
	for i := 0; err == nil; i++ {
		var e Event
		e, err = s.AddEvent(ctx, Event{Service: "web", DeploymentID: d.ID, Type: "tick", Data: fmt.Appendf(nil, `{"i":%d}`, i)})
		if err != nil {
			break
		}
		fmt.Fprintln(os.Stdout, e.ID) // os.Stdout is unbuffered
		d.State = bytes.Repeat(fmt.Appendf(nil, "%d,", i), 50)
		if err = s.UpdateDeployment(ctx, d); err != nil {
			break
		}
		err = s.Tx(ctx, func(tx *Store) error {
			if err := tx.Instances().Put(ctx, Instance{ID: fmt.Sprint("web-", i%7), Service: "web", Revision: i}); err != nil {
				return err
			}
			_, err := tx.AddEvent(ctx, Event{Service: "web", Type: "instance"})
			return err
		})
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(3)
}

// runCrashChild starts the child, reads until it has reported n committed events,
// kills it with SIGKILL and returns the IDs it reported.
func runCrashChild(t *testing.T, path string, n int) []int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	sc := bufio.NewScanner(out)
	for len(ids) < n && sc.Scan() {
		id, err := strconv.ParseInt(sc.Text(), 10, 64)
		if err != nil {
			continue // test framework output
		}
		ids = append(ids, id)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // killed: the error is expected
	if len(ids) < n {
		t.Fatalf("child reported %d events before exiting, want %d; stderr:\n%s", len(ids), n, stderr.String())
	}
	return ids
}

func TestCrashKeepsCommittedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cutover.db")
	var reported []int64
	for round := range 3 {
		ids := runCrashChild(t, path, 60+37*round)
		if len(reported) > 0 && ids[0] <= reported[len(reported)-1] {
			t.Errorf("round %d: event id %d reused (last reported %d)", round, ids[0], reported[len(reported)-1])
		}
		reported = append(reported, ids...)
	}

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open after kill -9: %v", err)
	}
	defer s.Close()
	if got := pragma(t, s.w, "quick_check"); got != "ok" {
		t.Errorf("quick_check after kill -9 = %q", got)
	}
	present := map[int64]bool{}
	for after := int64(0); ; {
		list, err := s.ListEvents(t.Context(), EventFilter{AfterID: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			break
		}
		for _, e := range list {
			present[e.ID] = true
		}
		after = list[len(list)-1].ID
	}
	missing := 0
	for _, id := range reported {
		if !present[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d events reported committed are missing after kill -9", missing, len(reported))
	}
}
