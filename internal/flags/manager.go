package flags

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ManagerOptions configures a Manager.
type ManagerOptions struct {
	// Now is the clock for audit times and rollout steps; time.Now when nil.
	Now func() time.Time
}

// Manager owns the live flag set: it validates and audits every change, writes it through the
// Store, swaps in a new Snapshot for evaluation and wakes watchers (the OFREP event stream).
// All writes must go through one Manager. Its methods are safe for concurrent use.
type Manager struct {
	store Store
	log   *slog.Logger
	now   func() time.Time

	write sync.Mutex // serializes changes
	snap  atomic.Pointer[Snapshot]

	watchMu sync.Mutex
	changed chan struct{} // closed and replaced at every change
	seq     int64
}

// NewManager returns a Manager with an empty flag set; call Load to read the Store.
func NewManager(store Store, logger *slog.Logger, opts ManagerOptions) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Manager{store: store, log: logger, now: opts.Now, changed: make(chan struct{})}
	m.snap.Store(newSnapshot(map[string]*Flag{}, Segments{}, time.Time{}))
	return m
}

// Load replaces the flag set with the Store's contents.
func (m *Manager) Load(ctx context.Context) error {
	m.write.Lock()
	defer m.write.Unlock()
	fs, ss, err := m.store.LoadFlags(ctx)
	if err != nil {
		return fmt.Errorf("load flags: %w", err)
	}
	flags := make(map[string]*Flag, len(fs))
	for i := range fs {
		Normalize(&fs[i])
		flags[fs[i].Key] = &fs[i]
	}
	segs := make(Segments, len(ss))
	for _, s := range ss {
		segs[s.Name] = s
	}
	m.publish(newSnapshot(flags, segs, m.now()))
	return nil
}

// Snapshot returns the current flag set for evaluation.
func (m *Manager) Snapshot() *Snapshot { return m.snap.Load() }

// Flag returns a copy of the flag named key, or an error wrapping ErrNotFound.
func (m *Manager) Flag(key string) (Flag, error) {
	f, ok := m.snap.Load().flags[key]
	if !ok {
		return Flag{}, fmt.Errorf("flag %s: %w", key, ErrNotFound)
	}
	c, err := cloneFlag(f)
	if err != nil {
		return Flag{}, err
	}
	return *c, nil
}

// Flags returns copies of every flag, ordered by key.
func (m *Manager) Flags() ([]Flag, error) {
	s := m.snap.Load()
	out := make([]Flag, 0, len(s.keys))
	for _, k := range s.keys {
		c, err := cloneFlag(s.flags[k])
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, nil
}

// Segments returns every segment, ordered by name.
func (m *Manager) Segments() []Segment {
	s := m.snap.Load()
	out := make([]Segment, 0, len(s.segments))
	for _, k := range slices.Sorted(maps.Keys(s.segments)) {
		seg := s.segments[k]
		seg.Conditions = slices.Clone(seg.Conditions)
		out = append(out, seg)
	}
	return out
}

// History returns audit records, newest first.
func (m *Manager) History(ctx context.Context, q HistoryQuery) ([]Record, error) {
	recs, err := m.store.FlagHistory(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("flag history: %w", err)
	}
	return recs, nil
}

// Changes returns a channel that is closed at the next change (of configuration, or of a
// rollout's share when a step's time comes) and the sequence number of the current state.
func (m *Manager) Changes() (<-chan struct{}, int64) {
	m.watchMu.Lock()
	defer m.watchMu.Unlock()
	return m.changed, m.seq
}

// notify wakes every watcher.
func (m *Manager) notify() {
	m.watchMu.Lock()
	defer m.watchMu.Unlock()
	close(m.changed)
	m.changed = make(chan struct{})
	m.seq++
}

func (m *Manager) publish(s *Snapshot) {
	m.snap.Store(s)
	m.notify()
}

// Run wakes watchers whenever a rollout step's time comes, so that clients re-fetch as the
// share grows. It blocks until ctx is done and returns nil.
func (m *Manager) Run(ctx context.Context) error {
	for {
		changed, _ := m.Changes()
		var due <-chan time.Time
		var timer *time.Timer
		if next, ok := m.snap.Load().nextStep(m.now()); ok {
			timer = time.NewTimer(next.Sub(m.now()))
			due = timer.C
		}
		select {
		case <-ctx.Done():
			stopTimer(timer)
			return nil
		case <-changed:
		case <-due:
			m.log.Info("flag rollout step reached")
			m.notify()
		}
		stopTimer(timer)
	}
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// change is one intended change: a new flag or segment value, or a deletion.
type change struct {
	kind    Kind
	key     string
	flag    *Flag    // the new flag, nil to delete (kind flag)
	segment *Segment // the new segment, nil to delete (kind segment)
}

// apply validates changes against the resulting flag set, stores them with their audit
// records in one Store call and publishes the new snapshot. Changes that alter nothing are
// dropped; it returns the records written. prefix tells whether error paths name the flag.
func (m *Manager) apply(ctx context.Context, actor, action string, changes []change) ([]Record, error) {
	cur := m.snap.Load()
	flags, segs := maps.Clone(cur.flags), maps.Clone(cur.segments)
	for _, c := range changes {
		switch {
		case c.kind == KindFlag && c.flag == nil:
			delete(flags, c.key)
		case c.kind == KindFlag:
			flags[c.key] = c.flag
		case c.segment == nil:
			delete(segs, c.key)
		default:
			segs[c.key] = *c.segment
		}
	}
	if err := checkChanges(changes, flags, segs); err != nil {
		return nil, err
	}
	now := m.now()
	recs, err := records(cur, changes, actor, action, now)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	if err := m.store.ApplyFlagChanges(ctx, recs); err != nil {
		return nil, fmt.Errorf("store flag changes: %w", err)
	}
	m.publish(newSnapshot(flags, segs, now))
	for _, r := range recs {
		m.log.Info("flag changed", "kind", r.Kind, "key", r.Key, "action", r.Action, "actor", r.Actor)
	}
	return recs, nil
}

// checkChanges validates every changed flag and segment, and that no flag refers to a segment
// that is gone.
func checkChanges(changes []change, flags map[string]*Flag, segs Segments) error {
	var p problems
	for _, c := range changes {
		at := ""
		if len(changes) > 1 {
			at = string(c.kind) + "s." + c.key + "."
		}
		switch {
		case c.flag != nil:
			p.flag(at, c.flag, segs)
		case c.segment != nil:
			p.segment(at, c.segment)
		case c.kind == KindSegment:
			for _, k := range slices.Sorted(maps.Keys(flags)) {
				if usesSegment(flags[k], c.key) {
					p.add("segments."+c.key, "flag %q still uses the segment", k)
				}
			}
		}
	}
	return p.err()
}

func usesSegment(f *Flag, name string) bool {
	for _, r := range f.Rules {
		if slices.Contains(r.Segments, name) {
			return true
		}
	}
	return false
}

// records builds the audit records of changes against cur, leaving out those that change nothing.
func records(cur *Snapshot, changes []change, actor, action string, now time.Time) ([]Record, error) {
	var recs []Record
	for _, c := range changes {
		var before, after any
		if c.kind == KindFlag {
			before, after = optional(cur.flags[c.key]), optional(c.flag)
		} else {
			if s, ok := cur.segments[c.key]; ok {
				before = &s
			}
			after = optional(c.segment)
		}
		b, err := json.Marshal(before)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", c.kind, c.key, err)
		}
		a, err := json.Marshal(after)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", c.kind, c.key, err)
		}
		if bytes.Equal(a, b) {
			continue
		}
		recs = append(recs, Record{Time: now, Actor: actor, Action: action, Kind: c.kind, Key: c.key, Before: b, After: a})
	}
	return recs, nil
}

// optional turns a nil pointer into an untyped nil, so that it encodes as null.
func optional[T any](p *T) any {
	if p == nil {
		return nil
	}
	return p
}
