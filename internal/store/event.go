package store

import (
	"context"
	"strings"
	"time"
)

// Event is one recorded transition, for people (history, dashboard, webhooks).
// Events are never deleted, and IDs are never reused.
type Event struct {
	ID           int64
	Time         time.Time
	Service      string
	DeploymentID int64
	Type         string
	Message      string
	// Data is JSON or nil; the store does not read it.
	Data []byte
}

// EventFilter selects events: each non-zero field narrows the selection.
type EventFilter struct {
	Service      string
	DeploymentID int64
	// AfterID selects events with a greater ID.
	AfterID int64
	// Limit caps the number returned; 0 means 1000.
	Limit int
}

// defaultEventLimit is EventFilter.Limit's zero value.
const defaultEventLimit = 1000

// AddEvent records e and returns it with its ID set; a zero Time becomes now. Time is stored in UTC.
func (s *Store) AddEvent(ctx context.Context, e Event) (Event, error) {
	if e.Time.IsZero() {
		e.Time = now()
	}
	e.Time = e.Time.UTC()
	err := s.writer().QueryRowContext(ctx, `
INSERT INTO events (time, service, deployment_id, type, message, data) VALUES (?, ?, ?, ?, ?, ?)
RETURNING id`,
		nanos(e.Time), e.Service, e.DeploymentID, e.Type, e.Message, blob(e.Data)).Scan(&e.ID)
	if err != nil {
		return Event{}, s.fault(wrap("add event "+e.Type, err))
	}
	return e, nil
}

// ListEvents returns the events f selects, in ascending ID order.
func (s *Store) ListEvents(ctx context.Context, f EventFilter) ([]Event, error) {
	var where []string
	var args []any
	if f.Service != "" {
		where, args = append(where, "service = ?"), append(args, f.Service)
	}
	if f.DeploymentID != 0 {
		where, args = append(where, "deployment_id = ?"), append(args, f.DeploymentID)
	}
	where, args = append(where, "id > ?"), append(args, f.AfterID)
	limit := f.Limit
	if limit <= 0 {
		limit = defaultEventLimit
	}
	args = append(args, limit)
	rows, err := s.reader().QueryContext(ctx, `SELECT id, time, service, deployment_id, type, message, data
FROM events WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, wrap("list events", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var t int64
		if err := rows.Scan(&e.ID, &t, &e.Service, &e.DeploymentID, &e.Type, &e.Message, &e.Data); err != nil {
			return nil, wrap("list events", err)
		}
		e.Time = fromNanos(t)
		out = append(out, e)
	}
	return out, wrap("list events", rows.Err())
}

// LastEventID returns the greatest event ID, 0 when there are none.
func (s *Store) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	err := s.reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&id)
	return id, wrap("last event id", err)
}
