package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
)

// TLS names a route's certificate and private key files (PEM). They are read when the route
// is set, so a new certificate takes effect at the next SetRoute (the next deployment).
type TLS struct {
	CertFile, KeyFile string
}

func (t *TLS) validate() []error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.CertFile == "" {
		errs = append(errs, errors.New("tls cert file is empty"))
	}
	if t.KeyFile == "" {
		errs = append(errs, errors.New("tls key file is empty"))
	}
	return errs
}

// loadCert reads the route's certificate; nil when the route is plain HTTP.
func loadCert(r Route) (*tls.Certificate, error) {
	if r.TLS == nil {
		return nil, nil
	}
	c, err := tls.LoadX509KeyPair(r.TLS.CertFile, r.TLS.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("load tls certificate %s: %w", r.TLS.CertFile, err)
	}
	return &c, nil
}

// listenerTLS is a TLS listener's certificates: those of every route on it, the first the
// default for clients that name no host (or a host no certificate covers).
type listenerTLS struct {
	certs atomic.Pointer[[]*tls.Certificate]
}

func (lt *listenerTLS) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The guard reads HTTP/1 framing; HTTP/2 is not offered.
		NextProtos:     []string{"http/1.1"},
		GetCertificate: lt.certificate,
	}
}

func (lt *listenerTLS) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	cp := lt.certs.Load()
	if cp == nil || len(*cp) == 0 {
		return nil, errors.New("no certificate for this address")
	}
	certs := *cp
	for _, c := range certs {
		if hello.SupportsCertificate(c) == nil {
			return c, nil
		}
	}
	return certs[0], nil
}

// setCert records the route's certificate (nil: none). Callers hold p.mu.
func (p *Proxy) setCert(service string, c *tls.Certificate) {
	if p.certs == nil {
		p.certs = make(map[string]*tls.Certificate)
	}
	if c == nil {
		delete(p.certs, service)
		return
	}
	p.certs[service] = c
}

// refreshCerts hands each TLS listener the certificates of the routes on it, ordered by
// service name. Callers hold p.mu.
func (p *Proxy) refreshCerts() {
	names := make([]string, 0, len(p.routes))
	for name := range p.routes {
		names = append(names, name)
	}
	slices.Sort(names)
	for key, l := range p.listeners {
		if l.tls == nil {
			continue
		}
		var certs []*tls.Certificate
		for _, name := range names {
			r := p.routes[name]
			if c := p.certs[name]; c != nil && (r.Listen == key || r.PreviewListen == key) {
				certs = append(certs, c)
			}
		}
		l.tls.certs.Store(&certs)
	}
}

// reopenForTLS closes the listeners in keys that r would use in the other mode (plain or
// TLS); only r's own service uses them, as Conflict refuses routes that disagree. SetRoute
// then opens them anew in r's mode. Callers hold p.mu.
func (p *Proxy) reopenForTLS(r Route, keys []string) {
	for _, key := range keys {
		if l := p.listeners[key]; l != nil && (l.tls != nil) != (r.TLS != nil) {
			delete(p.listeners, key)
			p.closeListener(key, l)
		}
	}
}

// withTLS sets r.TLS from g when it is a TLS connection. Like net/http's server, it reads the
// state once per connection (the handshake is over by the first request) and shares it
// between the connection's requests.
func withTLS(r *http.Request, g *guardConn) {
	if g == nil {
		return
	}
	if g.tlsState == nil {
		c, ok := g.Conn.(*tls.Conn)
		if !ok {
			return
		}
		st := c.ConnectionState()
		g.tlsState = &st
	}
	r.TLS = g.tlsState
}

// CheckTLS reports whether the route's certificate and key files can be loaded as a pair;
// nil for a plain HTTP route. It is pure but for reading the files, for validating before
// deploying.
func CheckTLS(r Route) error {
	_, err := loadCert(r)
	return err
}
