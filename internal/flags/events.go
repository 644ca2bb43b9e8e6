package flags

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// sseData is OFREP's sseEventData: "re-fetch, the configuration is now etag".
type sseData struct {
	Type         string `json:"type"`
	ETag         string `json:"etag,omitempty"`
	LastModified int64  `json:"lastModified,omitempty"`
}

// events answers GET EventsPath with OFREP's server-sent event stream: an event
//
//	id: <sequence>
//	event: message
//	data: {"type":"refetchEvaluation","etag":"…","lastModified":<unix seconds>}
//
// at every change (several changes in quick succession may be merged into one), comment
// lines as heartbeats, and a retry hint. A client reconnecting with a Last-Event-ID other than
// the current sequence gets an event at once, since it may have missed a change.
func (h *ofrep) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout, if any
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	changed, seq := h.m.Changes()
	if _, err := fmt.Fprintf(w, ": cutover flag changes\nretry: %d\n\n", h.opts.Retry.Milliseconds()); err != nil {
		return
	}
	if last := r.Header.Get("Last-Event-ID"); last != "" && last != strconv.FormatInt(seq, 10) {
		if h.sendRefetch(w, seq) != nil {
			return
		}
	}
	if rc.Flush() != nil {
		return
	}
	heartbeat := time.NewTicker(h.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-h.opts.Done:
			return
		case <-heartbeat.C:
			_, err = fmt.Fprint(w, ": ping\n\n")
		case <-changed:
			changed, seq = h.m.Changes()
			err = h.sendRefetch(w, seq)
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			h.log.Debug("flag event stream closed", "error", err)
			return
		}
	}
}

// sendRefetch writes one refetchEvaluation event for the current snapshot.
func (h *ofrep) sendRefetch(w http.ResponseWriter, seq int64) error {
	snap := h.m.Snapshot()
	d := sseData{Type: "refetchEvaluation", ETag: snap.ETag()}
	if t := snap.LastModified(); !t.IsZero() {
		d.LastModified = t.Unix()
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode flag event: %w", err)
	}
	_, err = fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", seq, b)
	return err
}
