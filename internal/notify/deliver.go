package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cutover/cutover/internal/store"
)

// attempt sends d once and records the outcome: delivered on a 2xx answer; otherwise due
// again after a backoff that doubles with each attempt, or given up once d is older than
// GiveUp; a target that no longer exists gives up at once.
func (n *Notifier) attempt(ctx context.Context, d store.Delivery) {
	t, ok, err := n.targets.Target(ctx, d.Target)
	if err != nil {
		n.logger.Warn("notify: look up target", "target", d.Target, "error", err)
		return
	}
	sendErr := errors.New("the target is no longer configured")
	if ok {
		sendErr = n.send(ctx, t, d)
	}
	if ctx.Err() != nil {
		return // stopping: not the receiver's failure; it stays pending
	}
	var next time.Time
	msg := ""
	if sendErr != nil {
		msg = sendErr.Error()
		if ok && time.Since(d.CreatedAt) < n.cfg.GiveUp {
			next = time.Now().Add(n.backoff(d.Attempts))
		}
		n.logger.Warn("notify: delivery failed", "target", d.Target, "delivery", d.ID, "attempt", d.Attempts+1, "error", msg)
	}
	if err := n.out.RecordAttempt(ctx, d.ID, sendErr == nil, msg, next); err != nil {
		n.logger.Warn("notify: record attempt", "target", d.Target, "delivery", d.ID, "error", err)
	}
}

// backoff is MinBackoff doubled attempts times, at most MaxBackoff.
func (n *Notifier) backoff(attempts int) time.Duration {
	b := n.cfg.MinBackoff
	for range min(attempts, 30) {
		b *= 2
		if b >= n.cfg.MaxBackoff {
			return n.cfg.MaxBackoff
		}
	}
	return b
}

// send POSTs d's body to t. Its error never contains t's URL (a secret): a transport error
// is reported without it, an answer by its status.
func (n *Notifier) send(ctx context.Context, t Target, d store.Delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(d.Body))
	if err != nil {
		return errors.New("the target's URL is not valid")
	}
	req.Header.Set("User-Agent", "cutover-notify")
	req.Header.Set("X-Cutover-Delivery", strconv.FormatInt(d.ID, 10))
	req.Header.Set("X-Cutover-Event", d.Type)
	if t.Kind == KindSlack {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "application/cloudevents+json")
		if t.Secret != "" {
			req.Header.Set(SignatureHeader, Sign(t.Secret, d.Body))
		}
	}
	resp, err := n.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("send to %s: %w", RedactURL(t.URL), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", RedactURL(t.URL), resp.Status)
	}
	return nil
}
