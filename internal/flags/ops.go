package flags

import (
	"context"
	"fmt"
)

// PutFlag creates or replaces the flag f.Key on behalf of actor. It returns a
// *ValidationError (errors.Is ErrInvalid) listing every problem, and changes nothing then.
func (m *Manager) PutFlag(ctx context.Context, actor string, f Flag) error {
	m.write.Lock()
	defer m.write.Unlock()
	c, err := cloneFlag(&f)
	if err != nil {
		return err
	}
	Normalize(c)
	action := "update"
	if _, ok := m.snap.Load().flags[f.Key]; !ok {
		action = "create"
	}
	_, err = m.apply(ctx, actor, action, []change{{kind: KindFlag, key: f.Key, flag: c}})
	return err
}

// DeleteFlag deletes the flag named key, or returns an error wrapping ErrNotFound.
func (m *Manager) DeleteFlag(ctx context.Context, actor, key string) error {
	m.write.Lock()
	defer m.write.Unlock()
	if _, ok := m.snap.Load().flags[key]; !ok {
		return fmt.Errorf("delete flag %s: %w", key, ErrNotFound)
	}
	_, err := m.apply(ctx, actor, "delete", []change{{kind: KindFlag, key: key}})
	return err
}

// SetEnabled turns the flag named key on or off (the kill switch). Watchers are woken at once.
func (m *Manager) SetEnabled(ctx context.Context, actor, key string, enabled bool) error {
	action := "disable"
	if enabled {
		action = "enable"
	}
	return m.edit(ctx, actor, action, key, func(f *Flag) error {
		f.Enabled = enabled
		return nil
	})
}

// SetRollout replaces the rollout of the flag named key (nil removes it).
func (m *Manager) SetRollout(ctx context.Context, actor, key string, r *Rollout) error {
	return m.edit(ctx, actor, "rollout", key, func(f *Flag) error {
		if r == nil {
			f.Rollout = nil
			return nil
		}
		c := *r
		c.Steps = append([]Step(nil), r.Steps...)
		f.Rollout = &c
		return nil
	})
}

// HaltRollout freezes (halt true) the rollout of the flag named key at its current share, or
// resumes it (halt false): a resumed rollout jumps to the share its schedule gives now.
func (m *Manager) HaltRollout(ctx context.Context, actor, key string, halt bool) error {
	action := "resume"
	if halt {
		action = "halt"
	}
	return m.edit(ctx, actor, action, key, func(f *Flag) error {
		if f.Rollout == nil {
			return fmt.Errorf("flag %s has no rollout: %w", key, ErrInvalid)
		}
		f.Rollout.Halted, f.Rollout.HaltedAt = halt, nil
		if halt {
			now := m.now().UTC()
			f.Rollout.HaltedAt = &now
		}
		return nil
	})
}

// edit applies fn to a copy of the flag named key and stores the result.
func (m *Manager) edit(ctx context.Context, actor, action, key string, fn func(*Flag) error) error {
	m.write.Lock()
	defer m.write.Unlock()
	cur, ok := m.snap.Load().flags[key]
	if !ok {
		return fmt.Errorf("%s flag %s: %w", action, key, ErrNotFound)
	}
	f, err := cloneFlag(cur)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		return fmt.Errorf("%s flag %s: %w", action, key, err)
	}
	_, err = m.apply(ctx, actor, action, []change{{kind: KindFlag, key: key, flag: f}})
	return err
}

// PutSegment creates or replaces the segment s.Name.
func (m *Manager) PutSegment(ctx context.Context, actor string, s Segment) error {
	m.write.Lock()
	defer m.write.Unlock()
	s.Conditions = append([]Condition(nil), s.Conditions...)
	NormalizeSegment(&s)
	action := "update"
	if _, ok := m.snap.Load().segments[s.Name]; !ok {
		action = "create"
	}
	_, err := m.apply(ctx, actor, action, []change{{kind: KindSegment, key: s.Name, segment: &s}})
	return err
}

// DeleteSegment deletes the segment name; it refuses (ErrInvalid) while a flag uses it.
func (m *Manager) DeleteSegment(ctx context.Context, actor, name string) error {
	m.write.Lock()
	defer m.write.Unlock()
	if _, ok := m.snap.Load().segments[name]; !ok {
		return fmt.Errorf("delete segment %s: %w", name, ErrNotFound)
	}
	_, err := m.apply(ctx, actor, "delete", []change{{kind: KindSegment, key: name}})
	return err
}
