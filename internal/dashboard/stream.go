package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/api"
)

func contextWith(r *http.Request, s sessionData) context.Context {
	return context.WithValue(r.Context(), sessionKey{}, s)
}

// forward serves /ui/api/v1/... with the control API as /v1/..., authenticated with the
// session's token: the API decides what the token may do, exactly as for the CLI.
func (d *Dashboard) forward(w http.ResponseWriter, r *http.Request) {
	s := r.Context().Value(sessionKey{}).(sessionData)
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, "/ui/api")
	r2.URL.RawPath = ""
	r2.RequestURI = r2.URL.RequestURI()
	r2.Header.Del("Cookie")
	r2.Header.Del(csrfHeader)
	r2.Header.Set("Authorization", "Bearer "+s.Token)
	d.cfg.API.ServeHTTP(w, r2)
}

// stream answers GET /ui/stream with server-sent events: "services" (every service's state)
// at once, after every batch of new events and otherwise whenever it changed (looked at every
// SnapshotEvery); "samples" (the traffic's newest per-revision sample) after each sampling
// round; "event" for each recorded event after Last-Event-ID (or, on a first
// connection, the latest 50). A browser's EventSource reconnects by itself after a daemon
// hand-off and resumes from the last event it saw. The stream ends when the session's token
// stops being admitted.
func (d *Dashboard) stream(w http.ResponseWriter, r *http.Request) {
	s := r.Context().Value(sessionKey{}).(sessionData)
	d.streams.Add(1)
	defer d.streams.Add(-1)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	ctx := r.Context()
	after, err := d.startID(ctx, r.Header.Get("Last-Event-ID"))
	if err != nil {
		d.cfg.Logger.Warn("dashboard stream", "error", err)
		return
	}
	var last []byte
	seq := int64(-1)
	poll := time.NewTicker(d.cfg.EventPoll)
	defer poll.Stop()
	nextSnapshot := time.Time{}
	for {
		evs, err := d.cfg.Source.Events(ctx, api.EventQuery{AfterID: after, Limit: 200})
		if err != nil {
			d.cfg.Logger.Warn("dashboard stream: read events", "error", err)
			return
		}
		if err := rc.SetWriteDeadline(time.Now().Add(d.cfg.WriteTimeout)); err != nil {
			d.cfg.Logger.Warn("dashboard stream: set write deadline", "error", err)
			return
		}
		if len(evs) > 0 || time.Now().After(nextSnapshot) {
			if last, err = d.sendServices(ctx, w, last); err != nil {
				return
			}
			nextSnapshot = time.Now().Add(d.cfg.SnapshotEvery)
		}
		for _, e := range evs {
			if err := sendEvent(w, "event", strconv.FormatInt(e.ID, 10), e); err != nil {
				return
			}
			after = e.ID
		}
		if seq, err = d.sendSamples(w, seq); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-d.done:
			return
		case <-poll.C:
		}
		if !d.cfg.Check(s.Token) || time.Now().After(s.Expires) {
			_ = sendEvent(w, "logout", "", map[string]string{"error": "session ended"})
			return
		}
	}
}

// sendSamples sends the traffic's newest samples ("samples") when a sampling round has ended
// since seq; it returns the round it sent.
func (d *Dashboard) sendSamples(w http.ResponseWriter, seq int64) (int64, error) {
	if d.cfg.Samples == nil {
		return seq, nil
	}
	l := d.cfg.Samples()
	if l.Seq == seq {
		return seq, nil
	}
	return l.Seq, sendEvent(w, "samples", "", l)
}

// startID is the event ID a stream starts after: Last-Event-ID when the browser resumes,
// else 50 events back from the newest.
func (d *Dashboard) startID(ctx context.Context, lastID string) (int64, error) {
	if lastID != "" {
		if id, err := strconv.ParseInt(lastID, 10, 64); err == nil && id >= 0 {
			return id, nil
		}
	}
	var newest int64
	for {
		evs, err := d.cfg.Source.Events(ctx, api.EventQuery{AfterID: newest, Limit: 1000})
		if err != nil {
			return 0, fmt.Errorf("dashboard stream: read events: %w", err)
		}
		if len(evs) == 0 {
			return max(newest-50, 0), nil
		}
		newest = evs[len(evs)-1].ID
	}
}

// sendServices sends the services' state unless it is the same as last; it returns what it sent.
func (d *Dashboard) sendServices(ctx context.Context, w http.ResponseWriter, last []byte) ([]byte, error) {
	svcs, err := d.cfg.Source.Services(ctx)
	if err != nil {
		return last, fmt.Errorf("dashboard stream: read services: %w", err)
	}
	if svcs == nil {
		svcs = []api.Service{}
	}
	b, err := json.Marshal(svcs)
	if err != nil || bytes.Equal(b, last) {
		return last, err
	}
	_, err = fmt.Fprintf(w, "event: services\ndata: %s\n\n", b)
	return b, err
}

func sendEvent(w http.ResponseWriter, name, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if id != "" {
		_, err = fmt.Fprintf(w, "event: %s\nid: %s\ndata: %s\n\n", name, id, b)
	} else {
		_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
	}
	return err
}
