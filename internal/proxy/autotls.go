package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Certs obtains and serves the certificates of routes with TLS.ACME (certs.Manager is one).
type Certs interface {
	// Manage sets the hosts the service needs certificates for (none: no longer any).
	Manage(service string, hosts []string)
	// Certificate returns the certificate for the client's name; nil, nil when the name is
	// not managed.
	Certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error)
	// Challenging reports whether hello is an ACME validator's (TLS-ALPN-01).
	Challenging(hello *tls.ClientHelloInfo) bool
	// ServeChallenge answers an HTTP-01 validation request, or reports false.
	ServeChallenge(w http.ResponseWriter, r *http.Request) bool
}

// acmeChallengePrefix is where HTTP-01 validation requests arrive.
const acmeChallengePrefix = "/.well-known/acme-challenge/"

// challenge answers a TLS-ALPN-01 validator with its challenge certificate and nothing
// else; any other client gets the listener's usual configuration.
func (lt *listenerTLS) challenge(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	if lt.acme == nil || !lt.acme.Challenging(hello) {
		return nil, nil
	}
	c, err := lt.acme.Certificate(hello)
	if err != nil || c == nil {
		return nil, fmt.Errorf("acme challenge for %s: no certificate: %w", hello.ServerName, err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*c}, NextProtos: []string{"acme-tls/1"}}, nil
}

// validateACME checks what automatic HTTPS needs of a route: exact hosts, and a Certs.
func (p *Proxy) validateACME(r Route) error {
	if r.TLS == nil || !r.TLS.ACME {
		return nil
	}
	if p.cfg.Certs == nil {
		return errors.New("tls acme: no ACME directory is configured")
	}
	if len(r.Hosts) == 0 {
		return errors.New("tls acme: the route needs hosts to ask certificates for")
	}
	for _, h := range r.Hosts {
		if strings.Contains(h, "*") {
			return fmt.Errorf("tls acme: host %q: wildcard names need DNS-01, which is not offered", h)
		}
	}
	return nil
}

// manageCerts tells Config.Certs which hosts r's service needs now. Callers hold p.mu.
func (p *Proxy) manageCerts(service string, r *Route) {
	if p.cfg.Certs == nil {
		return
	}
	if r == nil || r.TLS == nil || !r.TLS.ACME {
		p.cfg.Certs.Manage(service, nil)
		return
	}
	p.cfg.Certs.Manage(service, r.Hosts)
}

// httpListen is r's plain HTTP redirect address, "" if none.
func (r Route) httpListen() string {
	if r.TLS == nil {
		return ""
	}
	return r.TLS.HTTPListen
}

// redirectPort is the port suffix of r's HTTPS URLs: "" for 443.
func redirectPort(listen string) string {
	_, port, err := net.SplitHostPort(listen)
	if err != nil || port == "443" {
		return ""
	}
	return ":" + port
}

// hstsValue is the Strict-Transport-Security header of r, nil if none.
func hstsValue(r Route) []string {
	if r.TLS == nil || r.TLS.HSTS <= 0 {
		return nil
	}
	return []string{"max-age=" + strconv.FormatInt(int64(r.TLS.HSTS.Seconds()), 10)}
}

// redirect sends the client to the HTTPS URL of its request (308 keeps method and body).
func (p *Proxy) redirect(w http.ResponseWriter, r *http.Request, e *pathEntry, reqID []string) {
	host := stripPort(r.Host)
	w.Header()["Location"] = []string{"https://" + host + e.redirect + r.URL.RequestURI()}
	p.plain(w, http.StatusPermanentRedirect, "use https\n", reqID)
}
