package rollout

import (
	"errors"
	"testing"
)

func TestApprove(t *testing.T) {
	waiting := State{Status: StatusPaused, Phase: PhaseAwaitingApproval, ApprovalRequired: true, StartedBy: "ci"}
	cases := []struct {
		name string
		st   State
		who  string
		ok   bool
	}{
		{"another token", waiting, "alice", true},
		{"the starter", waiting, "ci", false},
		{"no name", waiting, "", false},
		{"approved already", func() State { s := waiting; s.ApprovedBy = "bob"; return s }(), "alice", false},
		{"not required", State{Status: StatusRunning, StartedBy: "ci"}, "alice", false},
		{"ended", func() State { s := waiting; s.Status = StatusAborted; return s }(), "alice", false},
	}
	for _, c := range cases {
		got, err := Approve(c.st, c.who)
		if c.ok {
			if err != nil || got.ApprovedBy != c.who || got.Status != StatusRunning || got.AwaitingApproval() {
				t.Errorf("%s: Approve = %+v, %v; want approved by %s, running", c.name, got, err, c.who)
			}
			continue
		}
		if !errors.Is(err, ErrApprovalRefused) || got.ApprovedBy != c.st.ApprovedBy || got.Status != c.st.Status {
			t.Errorf("%s: Approve = %+v, %v; want the state unchanged and ErrApprovalRefused", c.name, got, err)
		}
	}
}
