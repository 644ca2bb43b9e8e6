package flags

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// maxRolloutSteps bounds a generated schedule (0.01 % steps from 0 to 100 would be 10,000).
const maxRolloutSteps = 1000

// RolloutRequest changes a flag's progressive rollout. Exactly one of: To (with Every and
// Step for a schedule), Halt, Resume or Clear.
type RolloutRequest struct {
	// Variant is served to the rollout's share; default: the current rollout's variant, else
	// the variant whose value is true for a boolean flag.
	Variant string
	// To is the share to reach, in percent (0-100).
	To float64
	// Every and Step make a schedule: Step percent now, then Step more every Every until To,
	// counting from the share served now. Every is a Go duration ("10m"); empty: To at once.
	Every string
	Step  float64
	// Halt freezes the rollout at its current share; Resume continues its schedule.
	Halt   bool
	Resume bool
	// Clear removes the rollout.
	Clear bool
}

// SetRollout carries out req on the flag named key on behalf of actor. A request that is not
// well formed wraps ErrBadRequest, and changes nothing.
func (s *Service) SetRollout(ctx context.Context, actor, key string, req RolloutRequest) (Status, error) {
	if err := checkOneRolloutMode(req); err != nil {
		return Status{}, err
	}
	m := s.manager
	var err error
	switch {
	case req.Halt || req.Resume:
		err = m.HaltRollout(ctx, actor, key, req.Halt)
	case req.Clear:
		err = m.SetRollout(ctx, actor, key, nil)
	default:
		var f Flag
		if f, err = m.Flag(key); err != nil {
			break
		}
		var r *Rollout
		if r, err = rolloutFor(f, req, s.now().UTC()); err != nil {
			return Status{}, err
		}
		err = m.SetRollout(ctx, actor, key, r)
	}
	if err != nil {
		return Status{}, err
	}
	return s.Flag(key)
}

// checkOneRolloutMode requires exactly one of a target, halt, resume or clear.
func checkOneRolloutMode(req RolloutRequest) error {
	n := 0
	for _, b := range []bool{req.Halt, req.Resume, req.Clear} {
		if b {
			n++
		}
	}
	target := req.To != 0 || req.Every != "" || req.Step != 0 || req.Variant != ""
	if n > 1 || (n == 1 && target) {
		return fmt.Errorf("rollout: give one of a target (--to), halt, resume or clear: %w", ErrBadRequest)
	}
	return nil
}

// rolloutFor builds the rollout req asks of flag f at now: To at once, or a schedule that
// starts from the share served now, adds Step at once and then Step more every Every until
// To. Percentages are rounded to 0.01, the bucketing resolution.
func rolloutFor(f Flag, req RolloutRequest, now time.Time) (*Rollout, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("rollout of %s: %s: %w", f.Key, fmt.Sprintf(format, args...), ErrBadRequest)
	}
	if req.To < 0 || req.To > 100 || math.IsNaN(req.To) {
		return nil, bad("--to %v: want a percentage from 0 to 100", req.To)
	}
	variant, err := rolloutVariant(f, req.Variant)
	if err != nil {
		return nil, bad("%v", err)
	}
	to := round2(req.To)
	from := 0.0
	if f.Rollout != nil && f.Rollout.Variant == variant {
		from = f.Rollout.Percent(now)
	}
	if req.Every == "" {
		if req.Step != 0 {
			return nil, bad("--step needs --every")
		}
		return &Rollout{Variant: variant, Steps: []Step{{At: now, Percent: to}}}, nil
	}
	every, err := time.ParseDuration(req.Every)
	if err != nil || every <= 0 {
		return nil, bad("--every %q: want a positive duration such as 10m", req.Every)
	}
	step := round2(req.Step)
	if step <= 0 || step > 100 {
		return nil, bad("--step %v: want a percentage above 0, up to 100", req.Step)
	}
	if to <= from {
		return &Rollout{Variant: variant, Steps: []Step{{At: now, Percent: to}}}, nil
	}
	var steps []Step
	for p, at := from, now; p < to; at = at.Add(every) {
		p = min(round2(p+step), to)
		steps = append(steps, Step{At: at, Percent: p})
		if len(steps) > maxRolloutSteps {
			return nil, bad("the schedule would have more than %d steps: take a larger --step", maxRolloutSteps)
		}
	}
	return &Rollout{Variant: variant, Steps: steps}, nil
}

// rolloutVariant picks the variant a rollout serves: the one asked for, else the current
// rollout's, else for a boolean flag the variant whose value is true.
func rolloutVariant(f Flag, asked string) (string, error) {
	if asked != "" {
		if _, ok := f.Variants[asked]; !ok {
			return "", fmt.Errorf("variant %q is not one of the flag's variants %v", asked, variantNames(f))
		}
		return asked, nil
	}
	if f.Rollout != nil {
		return f.Rollout.Variant, nil
	}
	if f.Type == Boolean {
		for _, name := range variantNames(f) {
			if v, ok := f.Variants[name].(bool); ok && v {
				return name, nil
			}
		}
	}
	return "", fmt.Errorf("name the variant to roll out (--variant), one of %v", variantNames(f))
}

func variantNames(f Flag) []string {
	names := make([]string, 0, len(f.Variants))
	for k := range f.Variants {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func round2(p float64) float64 { return math.Round(p*100) / 100 }
