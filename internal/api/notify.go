package api

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// NotifyStatus is the answer of GET /v1/notifications: the targets (URLs redacted to their
// scheme and host) and the latest deliveries, newest first.
type NotifyStatus struct {
	Targets    []NotifyTarget   `json:"targets"`
	Deliveries []NotifyDelivery `json:"deliveries"`
}

// NotifyTarget is one notify target, without its secrets.
type NotifyTarget struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	URL    string   `json:"url"` // redacted
	Signed bool     `json:"signed,omitempty"`
	Events []string `json:"events,omitempty"`
}

// NotifyDelivery is one delivery in the outbox.
type NotifyDelivery struct {
	ID          int64     `json:"id"`
	EventID     int64     `json:"event_id"`
	Target      string    `json:"target"`
	Service     string    `json:"service,omitempty"`
	Event       string    `json:"event"`
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error,omitempty"`
	NextAt      time.Time `json:"next_at,omitzero"`
	CreatedAt   time.Time `json:"created_at"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}

// Notifications asks GET /v1/notifications.
func (c *Client) Notifications(ctx context.Context) (NotifyStatus, error) {
	var out NotifyStatus
	err := c.call(ctx, http.MethodGet, "/v1/notifications", nil, nil, &out)
	return out, err
}

// TestNotification asks POST /v1/notifications/test: a notify.test event for the daemon-wide
// targets and service's own ("" for none), to target only ("" for all).
func (c *Client) TestNotification(ctx context.Context, service, target string) error {
	q := url.Values{}
	if service != "" {
		q.Set("service", service)
	}
	if target != "" {
		q.Set("target", target)
	}
	return c.call(ctx, http.MethodPost, "/v1/notifications/test", q, nil, nil)
}
