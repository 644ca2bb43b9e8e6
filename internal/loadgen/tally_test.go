package loadgen

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTallyAndString(t *testing.T) {
	var tl Tally
	for i := range 10 {
		tl.Add(Result{Status: 200, Version: "v1", Latency: time.Duration(i+1) * time.Millisecond})
	}
	tl.Add(Result{Status: 500, Version: "v2", Failed: true, Kind: "http_500", Latency: 20 * time.Millisecond})
	tl.Add(Result{Failed: true, Kind: "refused"})
	tl.Add(Result{Dropped: true})
	tl.Add(Result{Canceled: true})
	s := tl.Snapshot()
	got := []any{s.Sent, s.OK, s.Failed, s.Canceled, s.GeneratorDropped, s.ByStatus, s.ByVersion, s.Errors,
		s.P50.Round(100 * time.Microsecond), s.Max}
	want := []any{int64(13), int64(10), int64(2), int64(1), int64(1),
		map[int]int64{200: 10, 500: 1}, map[string]int64{"v1": 10, "v2": 1},
		map[string]int64{"http_500": 1, "refused": 1}, 6 * time.Millisecond, 20 * time.Millisecond}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("snapshot (-got +want):\n%s", d)
	}
	s.Elapsed = 1500 * time.Millisecond
	s.P50, s.P99, s.P999 = 6*time.Millisecond, 19996*time.Microsecond, 20*time.Millisecond
	wantLine := "sent 13 ok 10 failed 2 dropped 1 canceled 1 | 200:10 500:1 | v1:10 v2:1 | http_500:1 refused:1 | p50 6ms p99 20ms p99.9 20ms max 20ms | 1.5s"
	if got := s.String(); got != wantLine {
		t.Errorf("String() =\n%s\nwant\n%s", got, wantLine)
	}
	if got, want := (Summary{}).String(), "sent 0 ok 0 failed 0 dropped 0 | - | - | no errors | p50 0s p99 0s p99.9 0s max 0s | 0s"; got != want {
		t.Errorf("empty String() = %q, want %q", got, want)
	}
}

func TestSnapshotWhileAdding(t *testing.T) {
	tl := NewTally()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				tl.Add(Result{Status: 200, Version: "v1", Latency: time.Millisecond})
			}
		})
	}
	wg.Go(func() {
		for range 100 {
			s := tl.Snapshot()
			s.ByStatus[999] = 1 // the copy is the caller's
			if s.Sent != s.OK {
				t.Errorf("snapshot mid-run: %v", s)
				return
			}
		}
	})
	wg.Wait()
	if s := tl.Snapshot(); s.Sent != 4000 || s.ByVersion["v1"] != 4000 || s.ByStatus[999] != 0 || s.Elapsed <= 0 {
		t.Errorf("final snapshot %v, want 4000 sent, no 999 status, elapsed > 0", s)
	}
}
