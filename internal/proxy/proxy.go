// Package proxy owns cutover's data plane: the reverse proxy between user traffic and a
// service's instances. It keeps an immutable route table behind an atomic pointer (listener →
// host → longest path prefix → service), splits each service's traffic between revision groups
// by weight (or by a request's override header or cookie, or by a sticky key's bucket),
// balances inside a group, retries an idempotent request once on another target when its
// target refused it or died before answering, ejects targets that refuse connections or time
// out for a while, drains removed targets and counts requests per service and revision, with
// a latency histogram. It enforces each route's limits (body size, requests in flight with a
// queue) and serves routes over TLS from certificate files or with certificates from an ACME
// directory (Config.Certs), in HTTP/1.1 or HTTP/2 (ALPN; h2c by prior knowledge on plain
// addresses), and talks HTTP/2 without TLS to the instances of routes that ask (gRPC). Requests without a body reach
// their target through the proxy's own HTTP/1.1 client (upstream.go: pooled connections, no
// goroutine per connection); the others, and upgrades, through net/http's Transport. On plain
// listeners, plain HTTP/1.1 requests are read and answered by the proxy's own loop (package
// h1, fast.go); every other connection (TLS, HTTP/2, h2c, upgrades, chunked bodies, HTTP/1.0,
// anything malformed) is served by net/http behind the request-smuggling guard (guard.go).
//
// It must not know about specs, stores or deployments: callers hand it plain routes and targets,
// and it never starts, stops or probes instances.
package proxy

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Config tunes the proxy. Zero fields take their defaults.
type Config struct {
	// ReadHeaderTimeout bounds reading a client's request headers (default 10s);
	// IdleTimeout bounds an idle client keep-alive connection (default 120s).
	ReadHeaderTimeout, IdleTimeout time.Duration
	// MaxHeaderBytes caps a client's request headers (default 64 KiB).
	MaxHeaderBytes int
	// ShutdownTimeout bounds Run's graceful drain once its context is done (default 30s).
	ShutdownTimeout time.Duration
	// EjectDuration is how long a target that refused a connection is passed over while other
	// targets of its service are available (default 10s; negative disables ejection).
	EjectDuration time.Duration
	// ClientStall is how long a client may leave its request body without a byte before an
	// upstream failure of that request is put down to the client rather than the app (an app
	// that gives up on a stalled upload is not failing); default 1s. See forward.
	ClientStall time.Duration
	// RequestIDHeader names the request id header, kept when the client sent one and generated
	// otherwise, forwarded upstream and set on the response (default "X-Request-Id").
	RequestIDHeader string
	// TrustedProxies are the client networks whose X-Forwarded-For, -Proto and -Host are kept
	// (the client's address is appended to X-Forwarded-For) and whose other forwarding headers
	// (Forwarded, X-Real-IP, True-Client-IP, X-Forwarded-Port, X-Forwarded-Prefix and their
	// kin) reach the app. From any other client the first are overwritten and the others
	// removed. Default none.
	TrustedProxies []netip.Prefix
	// Listen opens the listener of a route's address (default net.Listen("tcp", addr)). The
	// daemon serves through it on sockets inherited from the process it replaces.
	Listen func(addr string) (net.Listener, error)
	// StdHTTP1 serves plain listeners with net/http alone. By default their HTTP/1.1
	// requests go through the proxy's own server loop (package h1), which hands every
	// connection it does not serve (chunked bodies, upgrades, h2c, HTTP/1.0, anything malformed)
	// to net/http behind the request-smuggling guard.
	StdHTTP1 bool
	// Certs serves the certificates of routes with TLS.ACME; without it such routes are
	// refused.
	Certs Certs
}

func (c Config) withDefaults() Config {
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = 10 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 120 * time.Second
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = 64 << 10
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.EjectDuration == 0 {
		c.EjectDuration = 10 * time.Second
	}
	if c.ClientStall == 0 {
		c.ClientStall = time.Second
	}
	if c.Listen == nil {
		c.Listen = func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
	}
	if c.RequestIDHeader == "" {
		c.RequestIDHeader = "X-Request-Id"
	}
	c.RequestIDHeader = http.CanonicalHeaderKey(c.RequestIDHeader)
	return c
}

// Proxy is cutover's reverse proxy. Create it with New, configure it with SetRoute and
// SetTargets (from any goroutine, before or while Run is running) and serve with Run.
// All methods are safe for concurrent use.
type Proxy struct {
	logger *slog.Logger
	cfg    Config
	epoch  time.Time // monotonic base for ejection deadlines and latency
	ids    requestIDs

	// table is the immutable route table read by every request without locks.
	table atomic.Pointer[routeTable]

	mu        sync.Mutex // guards everything below; never taken per request
	routes    map[string]Route
	services  map[string]*serviceSlot
	listeners map[string]*listener // by Route.Listen / Route.PreviewListen string
	nextSlot  int
	targets   map[string]*target // registry by target ID, including draining ones
	stats     map[string]map[int]*revStats
	running   bool
	stopped   bool
	wg        sync.WaitGroup // serving and closing goroutines started while running
	upgraded  map[net.Conn]struct{}
	certs     map[string]*tls.Certificate // routes' TLS certificates by service
}

// New returns a proxy with no routes. It starts no goroutine and opens no listener.
func New(logger *slog.Logger, cfg Config) *Proxy {
	p := &Proxy{
		logger:    logger.With("component", "proxy"),
		cfg:       cfg.withDefaults(),
		epoch:     time.Now(),
		routes:    make(map[string]Route),
		services:  make(map[string]*serviceSlot),
		listeners: make(map[string]*listener),
		targets:   make(map[string]*target),
		stats:     make(map[string]map[int]*revStats),
		upgraded:  make(map[net.Conn]struct{}),
	}
	p.ids.init()
	p.table.Store(&routeTable{})
	return p
}

// now is the monotonic time since the proxy was created, in nanoseconds.
func (p *Proxy) now() int64 { return int64(time.Since(p.epoch)) }

// Addrs returns the actual addresses of the open listeners (ports resolved), in the order
// the listeners were opened.
func (p *Proxy) Addrs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ls := p.sortedListeners()
	addrs := make([]string, 0, len(ls))
	for _, l := range ls {
		addrs = append(addrs, l.ln.Addr().String())
	}
	return addrs
}

// serviceSlot is a service's entry shared by every route table: SetTargets swaps its traffic
// without rebuilding the route table.
type serviceSlot struct {
	name        string
	traffic     atomic.Pointer[traffic]
	emptyWarned atomic.Bool
	timeout     time.Duration             // upstream response-header timeout; guarded by Proxy.mu
	h2c         bool                      // upstream in HTTP/2 without TLS; guarded by Proxy.mu
	limits      atomic.Pointer[limiter]   // the route's Limits; nil when it has none
	pause       atomic.Pointer[pauseGate] // non-nil while the service's traffic is paused
}

// slot returns the service's slot, creating it. Callers hold p.mu.
func (p *Proxy) slot(service string) *serviceSlot {
	s := p.services[service]
	if s == nil {
		s = &serviceSlot{name: service, timeout: defaultTimeout}
		s.traffic.Store(&traffic{})
		p.services[service] = s
	}
	return s
}

const defaultTimeout = 30 * time.Second
