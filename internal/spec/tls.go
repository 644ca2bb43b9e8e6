package spec

import (
	"strings"
)

// RouteTLS is how a route serves TLS: from the PEM files of a certificate (with its chain)
// and private key, or with certificates for route.hosts from the daemon's ACME directory
// (Let's Encrypt by default; `cutover serve --acme-directory`).
type RouteTLS struct {
	Cert string `yaml:"cert" json:"cert"`
	Key  string `yaml:"key" json:"key"`
	// ACME obtains and renews the certificates of route.hosts automatically.
	ACME bool `yaml:"acme" json:"acme,omitempty"`
	// HTTPListen is a plain HTTP address (":80") that redirects the route's requests to
	// HTTPS and answers ACME HTTP-01 challenges.
	HTTPListen string `yaml:"http_listen" json:"http_listen,omitempty"`
	// HSTS, when set, is the max-age of the Strict-Transport-Security header on the
	// route's HTTPS answers.
	HSTS Duration `yaml:"hsts" json:"hsts,omitempty"`
}

func validateRouteTLS(errs *Errors, r *Route) {
	switch r.Protocol {
	case "", "http1", "h2c":
	default:
		errs.add("route.protocol", "must be http1 or h2c, not %q", r.Protocol)
	}
	t := r.TLS
	if t == nil {
		return
	}
	if t.HSTS < 0 {
		errs.add("route.tls.hsts", "must not be negative")
	}
	if h := t.HTTPListen; h != "" {
		if err := checkAddress(h); err != nil {
			errs.add("route.tls.http_listen", "%s", err)
		} else if h == r.Listen {
			errs.add("route.tls.http_listen", "must differ from route.listen (%s)", r.Listen)
		}
	}
	if t.ACME {
		validateACME(errs, r)
		return
	}
	if strings.TrimSpace(t.Cert) == "" {
		errs.add("route.tls.cert", "required: the PEM file of the certificate (or acme: true)")
	}
	if strings.TrimSpace(t.Key) == "" {
		errs.add("route.tls.key", "required: the PEM file of the private key (or acme: true)")
	}
}

func validateACME(errs *Errors, r *Route) {
	if r.TLS.Cert != "" || r.TLS.Key != "" {
		errs.add("route.tls.acme", "cannot be combined with route.tls.cert and route.tls.key")
	}
	if len(r.Hosts) == 0 {
		errs.add("route.tls.acme", "needs route.hosts: the names to ask certificates for")
	}
	for i, h := range r.Hosts {
		if strings.Contains(h, "*") {
			errs.add(indexPath("route.hosts", i), "%q: a wildcard name cannot get an ACME certificate by TLS-ALPN-01 or HTTP-01", h)
		}
	}
}
