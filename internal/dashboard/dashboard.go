// Package dashboard serves cutover's web dashboard under /ui/ on the control API's address:
// a static page, script and style sheet embedded in the binary (no build step, nothing fetched
// from elsewhere), a login that turns an API token into a session cookie, a server-sent event
// stream of the services' state and the recorded events, and the control API itself under
// /ui/api/, reached with the session's token. It never widens what a token may do: every
// action goes through the same API handler with the same Authorization header; it adds only
// the cookie's protections (HttpOnly, SameSite=Strict, Secure under TLS, a CSRF header and an
// Origin check on every state-changing request) and a Content-Security-Policy without inline
// script. It starts no goroutine of its own; a stream lives as long as its request.
package dashboard

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/series"
)

//go:embed assets
var assets embed.FS

// Source is what the stream reads: the services' state and the recorded events.
type Source interface {
	Services(ctx context.Context) ([]api.Service, error)
	Events(ctx context.Context, q api.EventQuery) ([]api.Event, error)
}

// Sealer encrypts and authenticates the session cookie (seal.Key), so that a session
// survives a daemon hand-off or restart and cannot be forged or read.
type Sealer interface {
	Seal(label string, plain []byte) []byte
	Open(label string, sealed []byte) ([]byte, error)
}

// Config is what the dashboard needs.
type Config struct {
	// API is the control API's handler; /ui/api/v1/... is served by it as /v1/...
	API http.Handler
	// Check reports whether a token is admitted by the API now.
	Check  func(token string) bool
	Source Source
	Sealer Sealer
	// Samples returns the newest sample of every revision's traffic (nil: no charts).
	Samples func() series.Latest
	Logger  *slog.Logger
	// SessionTTL is how long a login lasts (default 12h).
	SessionTTL time.Duration
	// EventPoll is how often a stream looks for new events (default 200ms); SnapshotEvery
	// how often it sends the services' state when no event came (default 1s).
	EventPoll, SnapshotEvery time.Duration
	// WriteTimeout is how long one batch of a stream may take to write (default 10s): a
	// browser that stops reading is dropped then, so that a stalled client holds no more
	// than its socket's buffers and one handler, and never delays a hand-off.
	WriteTimeout time.Duration
}

// Dashboard is the dashboard's HTTP handler.
type Dashboard struct {
	cfg      Config
	mux      *http.ServeMux
	done     chan struct{}
	shutdown sync.Once
	streams  atomic.Int64
}

// Streams is the number of event streams open now.
func (d *Dashboard) Streams() int64 { return d.streams.Load() }

// Shutdown ends every open stream now (browsers reconnect, to the successor after a
// hand-off) and refuses new ones; it is safe to call more than once.
func (d *Dashboard) Shutdown() {
	if d != nil {
		d.shutdown.Do(func() { close(d.done) })
	}
}

// Patterns are where to mount the dashboard on the API's mux: /ui/, and / and /favicon.ico,
// which lead there.
var Patterns = []string{"/ui/", "GET /{$}", "GET /favicon.ico"}

// New returns the dashboard; mount it at each of Patterns.
func New(cfg Config) *Dashboard {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.EventPoll <= 0 {
		cfg.EventPoll = 200 * time.Millisecond
	}
	if cfg.SnapshotEvery <= 0 {
		cfg.SnapshotEvery = time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	d := &Dashboard{cfg: cfg, mux: http.NewServeMux(), done: make(chan struct{})}
	static, _ := fs.Sub(assets, "assets") // the directory is embedded: no error
	files := http.StripPrefix("/ui/", http.FileServerFS(static))
	for _, f := range []string{"{$}", "app.js", "charts.js", "style.css", "favicon.svg"} {
		d.mux.Handle("GET /ui/"+f, files)
	}
	d.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
	})
	d.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/favicon.svg", http.StatusMovedPermanently)
	})
	d.mux.HandleFunc("POST /ui/login", d.login)
	d.mux.HandleFunc("POST /ui/logout", d.logout)
	d.mux.HandleFunc("GET /ui/session", d.session)
	d.mux.HandleFunc("GET /ui/stream", d.withSession(d.stream))
	d.mux.HandleFunc("/ui/api/v1/", d.withSession(d.forward))
	return d
}

// csp allows only this origin's own script, style and connections: no inline script or
// style, no framing, no plugin, forms only to itself.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// ServeHTTP implements http.Handler with the security headers on every answer.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	d.mux.ServeHTTP(w, r)
}
