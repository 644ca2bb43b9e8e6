package api

import (
	"fmt"
	"net/http"
	"time"
)

// events answers GET /v1/events. With wait, when nothing newer than after exists yet, it asks
// the Backend again every pollEvery until something comes, the wait ends or the client leaves;
// then it answers with what it has (possibly []).
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	q, wait, err := parseEventQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	wait = min(wait, h.maxWait)
	ctx := r.Context()
	list, err := h.b.Events(ctx, q)
	if err != nil || len(list) > 0 || wait <= 0 {
		h.reply(w, r, http.StatusOK, nonNil(list), err)
		return
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(h.pollEvery)
	defer tick.Stop()
	for len(list) == 0 {
		select {
		case <-ctx.Done():
			return // the client left; nobody reads an answer
		case <-deadline.C:
			writeJSON(w, http.StatusOK, []Event{})
			return
		case <-tick.C:
		}
		if list, err = h.b.Events(ctx, q); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, list)
}

// parseEventQuery reads service, deployment, after, limit and wait from the query.
func parseEventQuery(r *http.Request) (EventQuery, time.Duration, error) {
	q := EventQuery{Service: r.URL.Query().Get("service")}
	var err error
	if q.DeploymentID, err = queryInt(r, "deployment"); err != nil {
		return q, 0, err
	}
	if q.AfterID, err = queryInt(r, "after"); err != nil {
		return q, 0, err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return q, 0, err
	}
	q.Limit = int(limit)
	var wait time.Duration
	if s := r.URL.Query().Get("wait"); s != "" {
		wait, err = time.ParseDuration(s)
		if err != nil || wait < 0 {
			return q, 0, fmt.Errorf("query wait=%q: not a duration such as 5s: %w", s, ErrInvalid)
		}
	}
	return q, wait, nil
}

// logs answers GET /v1/services/{name}/logs as plain text, flushed after every write so that
// follow=1 streams. An error before the first byte is answered as usual; after it, only logged.
func (h *handler) logs(w http.ResponseWriter, r *http.Request) {
	rev, err := queryInt(r, "revision")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	follow, err := queryBool(r, "follow")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fw := &flushWriter{w: w, rc: http.NewResponseController(w)}
	err = h.b.Logs(r.Context(), r.PathValue("name"), int(rev), follow, fw)
	switch {
	case err == nil:
		if !fw.started {
			fw.start()
		}
	case !fw.started:
		h.fail(w, r, err)
	case r.Context().Err() == nil:
		h.logger.Warn("logs stream ended", "service", r.PathValue("name"), "error", err)
	}
}

// flushWriter sends each write to the client at once.
type flushWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

func (f *flushWriter) start() {
	f.started = true
	f.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	f.w.Header().Set("X-Content-Type-Options", "nosniff")
	f.w.WriteHeader(http.StatusOK)
}

// Write writes p and flushes it.
func (f *flushWriter) Write(p []byte) (int, error) {
	if !f.started {
		f.start()
	}
	n, err := f.w.Write(p)
	if err != nil {
		return n, err
	}
	if err := f.rc.Flush(); err != nil {
		return n, fmt.Errorf("flush logs: %w", err)
	}
	return n, nil
}
