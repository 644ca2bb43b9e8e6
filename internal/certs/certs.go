// Package certs obtains and renews the TLS certificates of routes' hostnames from an ACME
// directory (Let's Encrypt by default, any RFC 8555 directory allowed), with the protocol
// carried by golang.org/x/crypto/acme. It answers the directory's TLS-ALPN-01 and HTTP-01
// challenges through the proxy (Certificate, ServeChallenge), keeps one certificate per name
// in a directory of its own (so they survive a restart, a hand-off and a kill -9), renews each
// once two thirds of its lifetime are gone, and keeps serving the certificate it has while an
// issuance fails; every failure is kept per name (Status) and reported to an observer.
//
// It must not know about routes, services' specs or stores: callers name the hostnames a
// service needs (Manage) and read the results.
package certs

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// LetsEncrypt is the default ACME directory.
const LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

// Config tunes a Manager. Zero fields take their defaults.
type Config struct {
	// Directory is the ACME directory URL (default LetsEncrypt).
	Directory string
	// Email is the account's contact address, optional.
	Email string
	// Dir holds the account key and the certificates (required).
	Dir string
	// HTTPClient talks to the directory (default http.DefaultClient); give it the roots of a
	// private directory's own TLS certificate.
	HTTPClient *http.Client
	// Check is how often certificates are looked at for renewal (default 1m).
	Check time.Duration
	// Retry is how long a name whose issuance failed waits before the next attempt (default
	// 5m); a deploy that asks for the name again tries at once.
	Retry time.Duration
	// Timeout bounds one issuance (default 2m).
	Timeout time.Duration
	// Challenges are the challenge types to answer, preferred first (default tls-alpn-01,
	// answered on the route's TLS address, then http-01, which needs the route's plain HTTP
	// address: route.tls.http_listen). A public directory validates on ports 443 and 80.
	Challenges []string
	// Observe, when set, is told of each issuance and each failure (from Run's goroutine).
	Observe func(Event)
}

func (c Config) withDefaults() Config {
	if c.Directory == "" {
		c.Directory = LetsEncrypt
	}
	if c.HTTPClient == nil {
		c.HTTPClient = http.DefaultClient
	}
	if c.Check <= 0 {
		c.Check = time.Minute
	}
	if c.Retry <= 0 {
		c.Retry = 5 * time.Minute
	}
	if len(c.Challenges) == 0 {
		c.Challenges = []string{"tls-alpn-01", "http-01"}
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Minute
	}
	return c
}

// Event is one issuance or failure of a name's certificate.
type Event struct {
	Host     string
	Services []string
	Renewal  bool      // the name had a certificate already
	NotAfter time.Time // of the new certificate; zero on failure
	Err      error     // nil on success
}

// Status is what the manager knows of one name.
type Status struct {
	Host      string    `json:"host"`
	NotAfter  time.Time `json:"not_after,omitzero"`   // of the certificate served; zero if none
	LastError string    `json:"last_error,omitempty"` // of the last attempt, "" once one succeeds
	ErrorAt   time.Time `json:"error_at,omitzero"`
}

// Manager is the certificates of the managed names. Create it with New, run it with Run; all
// methods are safe for concurrent use.
type Manager struct {
	cfg    Config
	logger *slog.Logger

	mu       sync.Mutex
	services map[string][]string // hosts by service
	names    map[string]*name    // by host
	alpn     map[string]*tls.Certificate
	tokens   map[string]string // HTTP-01 path → key authorization
	wake     chan struct{}
}

// name is one managed hostname.
type name struct {
	cert    *tls.Certificate // served; nil until issued or loaded
	failed  error
	failAt  time.Time
	retryAt time.Time
	loaded  bool // the disk was read
}

// New returns a manager; it starts no goroutine and touches no file.
func New(logger *slog.Logger, cfg Config) *Manager {
	return &Manager{
		cfg:      cfg.withDefaults(),
		logger:   logger.With("component", "certs"),
		services: make(map[string][]string),
		names:    make(map[string]*name),
		alpn:     make(map[string]*tls.Certificate),
		tokens:   make(map[string]string),
		wake:     make(chan struct{}, 1),
	}
}

// Manage sets the names the service needs certificates for (none: the service needs none
// any more). A name new to the manager is read from disk at once and issued by Run if
// missing or due; a failed name is retried at once. It does not block on the network.
func (m *Manager) Manage(service string, hosts []string) {
	m.mu.Lock()
	if len(hosts) == 0 {
		delete(m.services, service)
	} else {
		m.services[service] = slices.Clone(hosts)
	}
	for _, h := range hosts {
		n := m.names[h]
		if n == nil {
			n = &name{}
			m.names[h] = n
		}
		if !n.loaded {
			n.loaded = true
			if c, err := load(m.cfg.Dir, h); err == nil {
				n.cert = c
			} else {
				m.logger.Debug("no stored certificate", "host", h, "error", err)
			}
		}
		n.retryAt = time.Time{}
	}
	m.mu.Unlock()
	m.poke()
}

func (m *Manager) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Certificate returns the certificate for the client's name: the TLS-ALPN-01 challenge
// certificate for a validator, else the managed name's certificate. It returns nil, nil for
// a name the manager does not manage, and an error for a managed name with no certificate yet.
func (m *Manager) Certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	host := hello.ServerName
	m.mu.Lock()
	defer m.mu.Unlock()
	if slices.Contains(hello.SupportedProtos, alpnProto) {
		if c := m.alpn[host]; c != nil {
			return c, nil
		}
	}
	n := m.names[host]
	if n == nil || !m.wanted(host) {
		return nil, nil
	}
	if n.cert == nil {
		return nil, &NotIssuedError{Host: host, Err: n.failed}
	}
	return n.cert, nil
}

// Challenging reports whether hello is an ACME validator's (TLS-ALPN-01) for a name being
// validated now.
func (m *Manager) Challenging(hello *tls.ClientHelloInfo) bool {
	if !slices.Contains(hello.SupportedProtos, alpnProto) {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.alpn[hello.ServerName] != nil
}

// ServeChallenge answers an HTTP-01 validation request and reports true, or reports false
// (writing nothing) for any other request.
func (m *Manager) ServeChallenge(w http.ResponseWriter, r *http.Request) bool {
	m.mu.Lock()
	auth, ok := m.tokens[r.URL.Path]
	m.mu.Unlock()
	if !ok || r.Method != http.MethodGet {
		return false
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(auth))
	return true
}

// Status returns what the manager knows of each wanted name, sorted by host.
func (m *Manager) Status() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Status
	for h, n := range m.names {
		if !m.wanted(h) {
			continue
		}
		s := Status{Host: h}
		if n.cert != nil {
			s.NotAfter = n.cert.Leaf.NotAfter
		}
		if n.failed != nil {
			s.LastError, s.ErrorAt = n.failed.Error(), n.failAt
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.Host, b.Host) })
	return out
}

// wanted reports whether some service needs host. Callers hold m.mu.
func (m *Manager) wanted(host string) bool {
	for _, hs := range m.services {
		if slices.Contains(hs, host) {
			return true
		}
	}
	return false
}

// servicesOf returns the services that need host, sorted. Callers hold m.mu.
func (m *Manager) servicesOf(host string) []string {
	var out []string
	for s, hs := range m.services {
		if slices.Contains(hs, host) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// NotIssuedError is a managed name that has no certificate yet.
type NotIssuedError struct {
	Host string
	Err  error // the last attempt's failure, nil if none ended yet
}

func (e *NotIssuedError) Error() string {
	if e.Err != nil {
		return "certificate for " + e.Host + " not issued: " + e.Err.Error()
	}
	return "certificate for " + e.Host + " not issued yet"
}

func (e *NotIssuedError) Unwrap() error { return e.Err }
