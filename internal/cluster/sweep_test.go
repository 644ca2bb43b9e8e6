package cluster

import (
	"testing"

	"github.com/cutover/cutover/internal/kubestate"
	"github.com/cutover/cutover/internal/rollout"
)

// The sweep keeps every instance while the newest deployment has not ended, including one an
// API replica has just recorded and the leader has not yet driven (no status at all).
func TestSweepStable(t *testing.T) {
	rec := func(status rollout.Status, from, to int) *kubestate.Record {
		return &kubestate.Record{State: rollout.State{Status: status, From: from, To: to}}
	}
	for _, c := range []struct {
		name string
		recs []*kubestate.Record
		want int
	}{
		{"no deployment", nil, -1},
		{"just recorded, not driven yet", []*kubestate.Record{rec("", 0, 0), rec(rollout.StatusSucceeded, 0, 1)}, -1},
		{"running", []*kubestate.Record{rec(rollout.StatusRunning, 1, 2)}, -1},
		{"paused", []*kubestate.Record{rec(rollout.StatusPaused, 1, 2)}, -1},
		{"succeeded", []*kubestate.Record{rec(rollout.StatusSucceeded, 1, 2)}, 2},
		{"rolled back", []*kubestate.Record{rec(rollout.StatusRolledBack, 1, 2)}, 1},
		{"aborted", []*kubestate.Record{rec(rollout.StatusAborted, 1, 2)}, 1},
	} {
		if got := sweepStable(c.recs); got != c.want {
			t.Errorf("%s: sweepStable = %d, want %d", c.name, got, c.want)
		}
	}
}
