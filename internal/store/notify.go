package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Delivery is one notification in the outbox: an event's rendered body for one target.
type Delivery struct {
	ID          int64
	EventID     int64
	Target      string
	Service     string
	Type        string
	Body        []byte
	Status      string // pending, delivered, failed (given up) or dropped (queue full)
	Attempts    int
	NextAt      time.Time
	LastError   string
	CreatedAt   time.Time
	DeliveredAt time.Time
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	DeliveryDropped   = "dropped"
)

// NotifyCursor returns the ID of the last event turned into deliveries (0: none yet).
func (s *Store) NotifyCursor(ctx context.Context) (int64, error) {
	var id int64
	err := s.reader().QueryRowContext(ctx, `SELECT event_id FROM notify_cursor WHERE id = 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, wrap("read notify cursor", err)
}

// Enqueue adds ds to the outbox (pending, due now; a delivery of an event to a target that
// is already there is ignored) and moves the cursor to eventID, in one transaction, so that
// an event is turned into deliveries exactly once even across a crash. A target with
// maxPending deliveries pending already gets its new ones as dropped.
func (s *Store) Enqueue(ctx context.Context, eventID int64, ds []Delivery, maxPending int) error {
	return s.inTx(ctx, func(q querier) error {
		for _, d := range ds {
			var pending int
			if err := q.QueryRowContext(ctx, `SELECT count(*) FROM notify_outbox WHERE target = ? AND status = 'pending'`,
				d.Target).Scan(&pending); err != nil {
				return wrap("count pending deliveries", err)
			}
			status, body := DeliveryPending, d.Body
			if pending >= maxPending {
				status, body = DeliveryDropped, []byte{} // a dropped delivery keeps no body: the file stays bounded too
			}
			t := nanos(now())
			if _, err := q.ExecContext(ctx, `INSERT OR IGNORE INTO notify_outbox
(event_id, target, service, type, body, status, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				d.EventID, d.Target, d.Service, d.Type, body, status, t, t); err != nil {
				return wrap("enqueue delivery", err)
			}
		}
		_, err := q.ExecContext(ctx, `INSERT INTO notify_cursor (id, event_id) VALUES (1, ?)
ON CONFLICT (id) DO UPDATE SET event_id = excluded.event_id`, eventID)
		return wrap("move notify cursor", err)
	})
}

// NextDeliveries returns, for each target, its oldest pending delivery (deliveries to one
// target go out in order: a later one waits for the earlier).
func (s *Store) NextDeliveries(ctx context.Context) ([]Delivery, error) {
	return s.deliveries(ctx, `WHERE id IN (SELECT min(id) FROM notify_outbox WHERE status = 'pending' GROUP BY target) ORDER BY id`)
}

// Deliveries returns the latest limit deliveries (0: 100), newest first.
func (s *Store) Deliveries(ctx context.Context, limit int) ([]Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.deliveries(ctx, `ORDER BY id DESC LIMIT ?`, limit)
}

func (s *Store) deliveries(ctx context.Context, where string, args ...any) ([]Delivery, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT id, event_id, target, service, type, body, status, attempts,
next_at, last_error, created_at, delivered_at FROM notify_outbox `+where, args...)
	if err != nil {
		return nil, wrap("list deliveries", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var next, created, delivered int64
		if err := rows.Scan(&d.ID, &d.EventID, &d.Target, &d.Service, &d.Type, &d.Body, &d.Status, &d.Attempts,
			&next, &d.LastError, &created, &delivered); err != nil {
			return nil, wrap("list deliveries", err)
		}
		d.NextAt, d.CreatedAt, d.DeliveredAt = fromNanos(next), fromNanos(created), fromNanos(delivered)
		out = append(out, d)
	}
	return out, wrap("list deliveries", rows.Err())
}

// RecordAttempt records the outcome of one attempt at delivery id: delivered, or failed with
// errMsg and due again at next (status failed when next is zero: given up).
func (s *Store) RecordAttempt(ctx context.Context, id int64, delivered bool, errMsg string, next time.Time) error {
	status, at := DeliveryPending, int64(0)
	switch {
	case delivered:
		status, at = DeliveryDelivered, nanos(now())
	case next.IsZero():
		status = DeliveryFailed
	}
	res, err := s.writer().ExecContext(ctx, `UPDATE notify_outbox SET status = ?, attempts = attempts + 1, last_error = ?,
next_at = ?, delivered_at = ? WHERE id = ?`, status, errMsg, nanos(next), at, id)
	return affectedOne("record delivery attempt", res, err)
}
