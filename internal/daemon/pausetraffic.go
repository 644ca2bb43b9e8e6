package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/control"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/trafficpause"
)

// Bounds of pause-traffic's timeout.
const (
	defaultPauseTimeout = 30 * time.Second
	maxPauseTimeout     = time.Hour
)

func (d *Daemon) pauses() trafficpause.Dir {
	return trafficpause.Open(filepath.Join(d.opts.StateDir, "paused"))
}

// restorePauses holds again the traffic of the services paused before a restart.
func (d *Daemon) restorePauses() {
	all, err := d.pauses().All()
	if err != nil {
		d.logger.Warn("read paused services", "error", err)
	}
	for _, p := range all {
		d.proxy.Pause(p.Service, p.Timeout, 0)
		d.logger.Info("traffic still paused", "service", p.Service, "timeout", p.Timeout)
	}
}

// PauseTrafficRequest is the body of POST /v1/services/{name}/pause-traffic.
type PauseTrafficRequest struct {
	// Timeout is how long a held request waits before 503 (default 30s, at most 1h).
	Timeout string `json:"timeout"`
}

// pauseTrafficHandler serves POST /v1/services/{name}/pause-traffic and resume-traffic:
// the pause is recorded before the proxy holds requests, and forgotten before it releases.
func (d *Daemon) pauseTrafficHandler(pause bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if _, err := d.store.GetService(r.Context(), name); err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, store.ErrNotFound) {
				code = http.StatusNotFound
			}
			writeJSONError(w, code, fmt.Sprintf("service %s: %v", name, err))
			return
		}
		if !pause {
			if err := d.pauses().Clear(name); err != nil {
				writeJSONError(w, http.StatusInternalServerError, err.Error())
				return
			}
			d.proxy.Resume(name)
			d.events.Record(r.Context(), name, 0, "traffic_resumed", fmt.Sprintf("traffic of %s resumed: held requests released", name), nil)
			writeJSON(w, map[string]any{"service": name, "paused": false})
			return
		}
		timeout, err := pauseTimeout(r)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, err.Error())
			return
		}
		if err := d.pauses().Set(trafficpause.Pause{Service: name, Timeout: timeout, Since: time.Now().UTC()}); err != nil {
			writeJSONError(w, http.StatusInternalServerError, err.Error())
			return
		}
		d.proxy.Pause(name, timeout, 0)
		d.events.Record(r.Context(), name, 0, "traffic_paused",
			fmt.Sprintf("traffic of %s paused: new requests are held up to %s until resume-traffic", name, timeout), map[string]any{"timeout": timeout.String()})
		writeJSON(w, map[string]any{"service": name, "paused": true, "timeout": timeout.String()})
	})
}

// pauseTimeout reads the request's timeout: a Go duration above 0 and at most 1h.
func pauseTimeout(r *http.Request) (time.Duration, error) {
	var req PauseTrafficRequest
	if r.Body != nil && r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 4096)).Decode(&req); err != nil {
			return 0, fmt.Errorf("body: %w", err)
		}
	}
	if req.Timeout == "" {
		return defaultPauseTimeout, nil
	}
	t, err := time.ParseDuration(req.Timeout)
	if err != nil || t <= 0 || t > maxPauseTimeout {
		return 0, fmt.Errorf("timeout %q: want a duration above 0 and at most %s", req.Timeout, maxPauseTimeout)
	}
	return t, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// removeTimeout bounds how long removing a service waits for its instances to stop.
const removeTimeout = 10 * time.Minute

// removeServiceHandler serves DELETE /v1/services/{name}: the service is stopped and
// forgotten (control.Remove), for down -f.
func (d *Daemon) removeServiceHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if _, err := d.store.GetService(r.Context(), name); err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, store.ErrNotFound) {
				code = http.StatusNotFound
			}
			writeJSONError(w, code, fmt.Sprintf("service %s: %v", name, err))
			return
		}
		// Bounded: instances drain and stop within their drain timeout and stop grace.
		ctx, cancel := context.WithTimeout(r.Context(), removeTimeout)
		defer cancel()
		err := control.Remove(ctx, d.store, d.fleet, d.proxy, d.events, name)
		switch {
		case errors.Is(err, api.ErrConflict):
			writeJSONError(w, http.StatusConflict, err.Error())
		case errors.Is(err, api.ErrNotFound):
			writeJSONError(w, http.StatusNotFound, err.Error())
		case err != nil:
			d.logger.Error("remove service", "service", name, "error", err)
			writeJSONError(w, http.StatusInternalServerError, err.Error())
		default:
			writeJSON(w, map[string]any{"service": name, "removed": true})
		}
	})
}
