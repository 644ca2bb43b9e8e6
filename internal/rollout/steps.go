package rollout

import (
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// StepNames describes a canary's steps for people, in the order State.Step counts them from
// 1, with the final weight 100 that the steps imply: "weight 20", "pause 30s", "pause
// (until promoted)", "analysis 2m0s", "ramp to 50". It is nil for another strategy.
func StepNames(s spec.Strategy) []string {
	if s.Type != spec.TypeCanary || s.Canary == nil {
		return nil
	}
	c := newCanary(s.Canary)
	out := make([]string, 0, len(c.steps))
	for _, st := range c.steps {
		out = append(out, stepName(st))
	}
	return out
}

// ProgressDeadline is how long the strategy gives a deployment to make progress (its
// progress_deadline, or DefaultProgressDeadline).
func ProgressDeadline(s spec.Strategy) time.Duration {
	var d spec.Duration
	switch {
	case s.Rolling != nil:
		d = s.Rolling.ProgressDeadline
	case s.BlueGreen != nil:
		d = s.BlueGreen.ProgressDeadline
	case s.Recreate != nil:
		d = s.Recreate.ProgressDeadline
	case s.Canary != nil:
		d = s.Canary.ProgressDeadline
	}
	return deadlineOr(d)
}

func stepName(s spec.CanaryStep) string {
	switch {
	case s.Weight != nil:
		return fmt.Sprintf("weight %d", *s.Weight)
	case s.Pause != nil && s.Pause.D() == 0:
		return "pause (until promoted)"
	case s.Pause != nil:
		return "pause " + s.Pause.String()
	case s.Analysis != nil:
		return "analysis " + s.Analysis.Duration.String()
	case s.Ramp != nil:
		return fmt.Sprintf("ramp to %d", s.Ramp.Max)
	}
	return "step"
}
