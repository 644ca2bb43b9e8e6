package flags

import "time"

// Status is a flag as stored, with what its rollout serves at the time it was taken.
type Status struct {
	Flag
	// RolloutPercent is the rollout's share, when the flag has a rollout.
	RolloutPercent *float64 `json:"rollout_percent,omitempty"`
	// NextStep is when the rollout's share next changes, if it will.
	NextStep *time.Time `json:"next_step,omitempty"`
}

// StatusAt returns f with what its rollout serves at now.
func StatusAt(f Flag, now time.Time) Status {
	st := Status{Flag: f}
	if f.Rollout != nil {
		p := f.Rollout.Percent(now)
		st.RolloutPercent = &p
		if t, ok := f.Rollout.NextStep(now); ok {
			st.NextStep = &t
		}
	}
	return st
}

// Flags returns the status of every flag, ordered by key.
func (s *Service) Flags() ([]Status, error) {
	list, err := s.manager.Flags()
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Status, len(list))
	for i, f := range list {
		out[i] = StatusAt(f, now)
	}
	return out, nil
}

// Flag returns the status of the flag named key, or an error wrapping ErrNotFound.
func (s *Service) Flag(key string) (Status, error) {
	f, err := s.manager.Flag(key)
	if err != nil {
		return Status{}, err
	}
	return StatusAt(f, s.now()), nil
}
