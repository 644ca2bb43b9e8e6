package flags

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Snapshot is an immutable view of every flag and segment at one moment. Evaluations read a
// Snapshot without locks; the Manager swaps in a new one on every change.
type Snapshot struct {
	flags    map[string]*Flag
	keys     []string // sorted
	segments Segments
	etag     string
	modified time.Time
}

// newSnapshot builds a snapshot from flags and segments it takes ownership of.
func newSnapshot(flags map[string]*Flag, segs Segments, modified time.Time) *Snapshot {
	s := &Snapshot{flags: flags, segments: segs, modified: modified}
	s.keys = slices.Sorted(maps.Keys(flags))
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, k := range s.keys {
		_ = enc.Encode(flags[k]) // a hash.Hash never fails a write; values are JSON types
	}
	for _, k := range slices.Sorted(maps.Keys(segs)) {
		_ = enc.Encode(segs[k])
	}
	s.etag = hex.EncodeToString(h.Sum(nil)[:12])
	return s
}

// Evaluate evaluates the flag named key; an unknown key gives FLAG_NOT_FOUND.
func (s *Snapshot) Evaluate(key string, ec *EvalContext, now time.Time) Result {
	f, ok := s.flags[key]
	if !ok {
		return fail(CodeFlagNotFound, fmt.Sprintf("flag %q was not found", key))
	}
	return Evaluate(f, s.segments, ec, now)
}

// Keys returns the flag keys in order. The caller must not modify the slice.
func (s *Snapshot) Keys() []string { return s.keys }

// ETag identifies the configuration: it changes whenever a flag or segment does.
func (s *Snapshot) ETag() string { return s.etag }

// LastModified is the time of the change that produced the snapshot (zero when loaded).
func (s *Snapshot) LastModified() time.Time { return s.modified }

// nextStep returns the earliest rollout step after now among enabled flags.
func (s *Snapshot) nextStep(now time.Time) (time.Time, bool) {
	var next time.Time
	found := false
	for _, f := range s.flags {
		if !f.Enabled || f.Rollout == nil {
			continue
		}
		if t, ok := f.Rollout.NextStep(now); ok && (!found || t.Before(next)) {
			next, found = t, true
		}
	}
	return next, found
}

// cloneFlag returns a deep copy of f (all values are JSON types, so a JSON round trip is exact).
func cloneFlag(f *Flag) (*Flag, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("copy flag %s: %w", f.Key, err)
	}
	var c Flag
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("copy flag %s: %w", f.Key, err)
	}
	return &c, nil
}
