package app

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// app holds the state the handlers share. It is safe for concurrent use.
type app struct {
	cfg      config
	users    *usersDB // nil unless DATABASE_URL is set
	started  time.Time
	draining atomic.Bool  // set on SIGTERM: readiness fails, other requests are still served
	requests atomic.Int64 // non-health requests seen, for the deterministic error pattern
	onPath   atomic.Int64 // of them, those under PATH_ERROR_RATE's prefix, which have their own
	injected atomic.Int64 // requests answered with an injected error
}

func newApp(cfg config, started time.Time) *app {
	return &app{cfg: cfg, started: started}
}

// routes returns the app's handler. Every path that is not /healthz, /metrics, /sse, /echo, /slow,
// /flag or (in database mode) /users answers like "/", so the app works behind any route
// path prefix.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", a.healthz)
	mux.HandleFunc("/metrics", a.metrics)
	mux.Handle("/sse", a.chaos(http.HandlerFunc(a.sse)))
	mux.Handle("/echo", a.chaos(http.HandlerFunc(a.echo)))
	mux.Handle("/slow", a.chaos(http.HandlerFunc(a.slow)))
	mux.Handle("/flag", a.flag())
	if a.users != nil {
		a.userRoutes(mux)
	}
	mux.Handle("/", a.chaos(http.HandlerFunc(a.hello)))
	return a.headers(mux)
}

// headers sets X-Version and X-Instance on every response.
func (a *app) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Version", a.cfg.Version)
		w.Header().Set("X-Instance", a.cfg.Instance)
		next.ServeHTTP(w, r)
	})
}

// chaos adds LATENCY (+ jitter) and answers 500 to ERROR_RATE of the requests (to
// PATH_ERROR_RATE's rate of those under its prefix, counted apart).
//
// The error pattern is deterministic: request n (counting from 1, over all non-health
// paths) fails when floor(n*rate) > floor((n-1)*rate), so any run of the first N requests
// holds exactly floor(N*rate) errors, spread evenly (a rate of 0.05 fails requests 20, 40, ...).
func (a *app) chaos(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := a.delay(); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		n, ppm := &a.requests, a.cfg.ErrorPPM
		if p := a.cfg.ErrorPath; p != "" && strings.HasPrefix(r.URL.Path, p) {
			n, ppm = &a.onPath, a.cfg.PathErrorPPM
		}
		if failNth(n.Add(1), ppm) {
			a.injected.Add(1)
			http.Error(w, "injected error from demoapp "+a.cfg.Version, http.StatusInternalServerError)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// failNth reports whether request n (from 1) fails at a rate of ppm parts per million.
func failNth(n, ppm int64) bool {
	return n*ppm/1e6 > (n-1)*ppm/1e6
}

// delay is LATENCY, times exp(LATENCY_SIGMA × a standard normal) (a log-normal latency with
// median LATENCY), plus a uniform jitter in [0, LATENCY_JITTER).
func (a *app) delay() time.Duration {
	d := a.cfg.Latency
	if s := a.cfg.LatencySigma; s > 0 {
		d = time.Duration(float64(d) * math.Exp(s*rand.NormFloat64()))
	}
	if j := a.cfg.LatencyJitter; j > 0 {
		d += rand.N(j)
	}
	return d
}

// metrics serves the app's own counters in Prometheus' text format: the requests that went
// through chaos (every path but /healthz, /metrics and /flag) and the errors it injected.
func (a *app) metrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# TYPE demoapp_requests_total counter\ndemoapp_requests_total %d\n", a.requests.Load()+a.onPath.Load())
	fmt.Fprintf(w, "# TYPE demoapp_errors_total counter\ndemoapp_errors_total %d\n", a.injected.Load())
}

func (a *app) healthz(w http.ResponseWriter, r *http.Request) {
	switch {
	case a.draining.Load():
		http.Error(w, "draining", http.StatusServiceUnavailable)
	case a.cfg.NeverReady:
		http.Error(w, "never ready", http.StatusServiceUnavailable)
	case time.Since(a.started) < a.cfg.ReadyAfter:
		http.Error(w, "not ready yet", http.StatusServiceUnavailable)
	case a.users != nil && a.dbUnready(w, r):
	default:
		fmt.Fprintln(w, "ok")
	}
}

func (a *app) hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "hello from demoapp %s\n", a.cfg.Version)
}

// sse sends five "data: tick N" events, 100ms apart, flushing each.
func (a *app) sse(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	for i := 1; i <= 5; i++ {
		if i > 1 {
			select {
			case <-time.After(100 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		fmt.Fprintf(w, "data: tick %d\n\n", i)
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// echoReply is what /echo answers, for checking the headers a proxy forwards.
type echoReply struct {
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	Query      string              `json:"query"`
	Host       string              `json:"host"`
	RemoteAddr string              `json:"remote_addr"`
	Proto      string              `json:"proto"`
	Version    string              `json:"version"`
	Headers    map[string][]string `json:"headers"`
	BodyBytes  int64               `json:"body_bytes"`
}

// echo reads the whole request body, as an upload endpoint does, then answers what it saw;
// a body it cannot read (cut or malformed by the client) gets 400.
func (a *app) echo(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(echoReply{
		BodyBytes:  n,
		Method:     r.Method,
		Path:       r.URL.Path,
		Query:      r.URL.RawQuery,
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		Proto:      r.Proto,
		Version:    a.cfg.Version,
		Headers:    r.Header,
	})
}

// slow waits ?d= (default 1s) before answering, or stops if the client goes away.
func (a *app) slow(w http.ResponseWriter, r *http.Request) {
	d := time.Second
	if v := r.URL.Query().Get("d"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d < 0 {
			http.Error(w, "bad d: want a duration like 2s", http.StatusBadRequest)
			return
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	fmt.Fprintf(w, "slow %s from demoapp %s\n", d, a.cfg.Version)
}
