package rollout

import (
	"context"
	"errors"
	"fmt"
)

// ErrApprovalRefused is the error of an approval that may not be given: by the token that
// started the deployment, or of a deployment that does not await one.
var ErrApprovalRefused = errors.New("approval refused")

// PhaseAwaitingApproval is the phase of a deployment that waits for an approval.
const PhaseAwaitingApproval = "awaiting_approval"

// AwaitingApproval reports whether the deployment waits for an approval before anything starts.
func (s State) AwaitingApproval() bool {
	return s.ApprovalRequired && s.ApprovedBy == "" && s.Status.Active()
}

// Approve returns the state approved by who, or an error wrapping ErrApprovalRefused when
// who may not approve it: a deployment is approved once, by a token other than the one
// that started it.
func Approve(s State, who string) (State, error) {
	switch {
	case !s.AwaitingApproval():
		return s, fmt.Errorf("the deployment does not await approval: %w", ErrApprovalRefused)
	case who == "":
		return s, fmt.Errorf("an approval needs a named token: %w", ErrApprovalRefused)
	case who == s.StartedBy:
		return s, fmt.Errorf("token %q started this deployment; another token must approve it: %w", who, ErrApprovalRefused)
	}
	s.ApprovedBy, s.Status, s.Phase, s.Reason = who, StatusRunning, "pending", ""
	return s, nil
}

// AwaitApproval returns once the deployment may start: at once when it needs no approval,
// else when a token other than the one that started it approves it, or when it is aborted
// (then it is final, and nothing has started). Requests other than approve and abort are
// refused meanwhile. It returns ctx's error with the deployment parked.
func (c *Controller) AwaitApproval(ctx context.Context, d *Deployment, requests <-chan Request) error {
	for d.State.AwaitingApproval() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case r := <-requests:
			r.Done <- c.apply(ctx, d, r)
		}
	}
	return nil
}

// applyWhileAwaiting applies an operator request to a deployment that awaits approval (or an
// approval to one that does not): approve, or abort before anything starts.
func (c *Controller) applyWhileAwaiting(ctx context.Context, d *Deployment, r Request) error {
	before := d.State
	switch r.Action {
	case ActionApprove:
		next, err := Approve(d.State, r.Who)
		if err != nil {
			return fmt.Errorf("approve deployment %d: %w", d.ID, err)
		}
		d.State = next
	case ActionAbort:
		d.State.Status, d.State.Phase = StatusAborted, "aborted"
		d.State.Reason = "aborted by " + r.Who + " while awaiting approval; nothing was started"
	default:
		return fmt.Errorf("deployment %d awaits approval by a token other than %q ('cutover approve %s'); "+
			"it can only be approved or aborted", d.ID, d.State.StartedBy, d.Service)
	}
	if err := c.recorder.SaveState(ctx, d); err != nil {
		d.State = before
		return fmt.Errorf("%s deployment %d: %w", r.Action, d.ID, err)
	}
	if r.Action == ActionApprove {
		c.recorder.Event(ctx, d, "deployment_approved", fmt.Sprintf("approved by %s (started by %s)", r.Who, d.State.StartedBy),
			map[string]any{"approved_by": r.Who, "started_by": d.State.StartedBy})
	} else {
		c.recorder.Event(ctx, d, "deployment_aborted", d.State.Reason, map[string]any{"by": r.Who})
	}
	return nil
}
