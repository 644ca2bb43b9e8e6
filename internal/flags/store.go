package flags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// ErrNotFound is returned (wrapped) for a flag or segment that does not exist.
var ErrNotFound = errors.New("not found")

// Kind says what a Record changed.
type Kind string

// The kinds of things a Record changes.
const (
	KindFlag    Kind = "flag"
	KindSegment Kind = "segment"
)

// Record is one audited change: who changed what, when, and the state before and after as
// JSON (a Flag or a Segment; null when it did not exist or was deleted). Applying a Record
// means storing After under (Kind, Key), or deleting it when After is null, and appending the
// Record to the history.
type Record struct {
	ID     int64           `json:"id"` // assigned by the Store, increasing
	Time   time.Time       `json:"time"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"` // create, update, delete, enable, disable, rollout, halt, import
	Kind   Kind            `json:"kind"`
	Key    string          `json:"key"`
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

// HistoryQuery selects records: all of them when Kind and Key are empty, newest first,
// at most Limit (0 means 100).
type HistoryQuery struct {
	Kind  Kind
	Key   string
	Limit int
}

// Store persists flags, segments and their audit history. Implementations must be safe for
// concurrent use. Apply is all or nothing: either every record's state change and the record
// itself are stored, or none. The Manager is the only writer and validates before applying.
type Store interface {
	// LoadFlags returns every flag and segment.
	LoadFlags(ctx context.Context) ([]Flag, []Segment, error)
	// ApplyFlagChanges stores the records' After states and appends the records, atomically.
	ApplyFlagChanges(ctx context.Context, recs []Record) error
	// FlagHistory returns audit records, newest first.
	FlagHistory(ctx context.Context, q HistoryQuery) ([]Record, error)
}

// MemStore is an in-memory Store for tests and for running without persistence.
// The zero value is ready to use.
type MemStore struct {
	mu       sync.Mutex
	flags    map[string]json.RawMessage
	segments map[string]json.RawMessage
	history  []Record
}

// LoadFlags implements Store.
func (m *MemStore) LoadFlags(ctx context.Context) ([]Flag, []Segment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var fs []Flag
	for _, k := range slices.Sorted(maps.Keys(m.flags)) {
		var f Flag
		if err := json.Unmarshal(m.flags[k], &f); err != nil {
			return nil, nil, fmt.Errorf("decode flag %s: %w", k, err)
		}
		fs = append(fs, f)
	}
	var ss []Segment
	for _, k := range slices.Sorted(maps.Keys(m.segments)) {
		var s Segment
		if err := json.Unmarshal(m.segments[k], &s); err != nil {
			return nil, nil, fmt.Errorf("decode segment %s: %w", k, err)
		}
		ss = append(ss, s)
	}
	return fs, ss, nil
}

// ApplyFlagChanges implements Store.
func (m *MemStore) ApplyFlagChanges(ctx context.Context, recs []Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range recs {
		if r.Kind != KindFlag && r.Kind != KindSegment {
			return fmt.Errorf("apply change to %s: unknown kind %q", r.Key, r.Kind)
		}
	}
	if m.flags == nil {
		m.flags, m.segments = map[string]json.RawMessage{}, map[string]json.RawMessage{}
	}
	for _, r := range recs {
		table := m.flags
		if r.Kind == KindSegment {
			table = m.segments
		}
		if isNull(r.After) {
			delete(table, r.Key)
		} else {
			table[r.Key] = slices.Clone(r.After)
		}
		r.ID = int64(len(m.history) + 1)
		m.history = append(m.history, r)
	}
	return nil
}

// FlagHistory implements Store.
func (m *MemStore) FlagHistory(ctx context.Context, q HistoryQuery) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []Record
	for i := len(m.history) - 1; i >= 0 && len(out) < limit; i-- {
		r := m.history[i]
		if (q.Kind == "" || r.Kind == q.Kind) && (q.Key == "" || r.Key == q.Key) {
			out = append(out, r)
		}
	}
	return out, nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}
