package proxy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Route is how requests reach a service: the address they arrive on, their host and their path.
type Route struct {
	// Service names the service the route leads to; one route per service.
	Service string
	// Listen is the proxy address, e.g. "127.0.0.1:8080" or ":8080". Routes of different
	// services may share it when their hosts or paths differ.
	Listen string
	// Hosts are exact hosts (port stripped, case-insensitive) or "*.example.com" (any subdomain,
	// at any depth; the longest matching suffix wins). Empty matches any host. An exact host
	// beats a wildcard, which beats any host; if the chosen host has no matching path, the next
	// less specific one is tried.
	Hosts []string
	// Paths are path prefixes matched on segment boundaries ("/api" matches "/api" and
	// "/api/x" but not "/apix"; "/api/" matches "/api/x"). Empty means "/". Longest wins.
	Paths []string
	// Balance is "least_requests" (the default) or "round_robin".
	Balance string
	// Timeout bounds the wait for the upstream's response headers (0 means 30s).
	Timeout time.Duration
	// PreviewHeader names a request header: requests carrying it reach the preview revision
	// when one is set (see SetTargets), and the normal split otherwise.
	PreviewHeader string
	// PreviewListen is an optional second address on which every request (matching Hosts and
	// Paths) reaches the preview revision, or gets 503 when none is set.
	PreviewListen string
	// Canary lets requests choose their revision group: overrides for testers and sticky
	// assignment by a request key. It does not apply on PreviewListen, nor to a PreviewHeader
	// request while a preview revision is set.
	Canary CanaryRouting
	// Limits bound the route's request bodies and requests in flight.
	Limits Limits
	// Internal are more addresses the route serves on, for any host (Hosts do not apply
	// there) and never for a preview: the gateway of a compose project's network, where the
	// project's containers reach the service by its name. No other route may use them.
	Internal []string
	// Protocol is how the proxy talks to the service's instances: "http1" (the default,
	// HTTP/1.1) or "h2c" (HTTP/2 without TLS, as gRPC servers speak it). Clients may use
	// HTTP/1.1 or HTTP/2 either way (h2 over TLS, h2c by prior knowledge on plain addresses).
	Protocol string
	// TLS, when set, serves Listen and PreviewListen over TLS. Every route on an address
	// must agree on whether it is TLS.
	TLS *TLS
	// Endpoints are groups of the route's requests counted apart (see Endpoint).
	Endpoints []Endpoint
	// EndpointHeader is the response header whose value endpoints' HeaderValues match ("":
	// none); StripEndpointHeader removes it from the responses clients get.
	EndpointHeader      string
	StripEndpointHeader bool
}

// Upstream protocols of Route.Protocol.
const (
	ProtocolHTTP1 = "http1"
	ProtocolH2C   = "h2c"
)

const (
	balanceLeast = "least_requests"
	balanceRR    = "round_robin"
)

// normalize validates r and returns it with lowercase hosts, default paths and balance.
func (r Route) normalize() (Route, error) {
	var errs []error
	if r.Service == "" {
		errs = append(errs, errors.New("service is empty"))
	}
	if r.Listen == "" {
		errs = append(errs, errors.New("listen is empty"))
	}
	if r.PreviewListen != "" && r.PreviewListen == r.Listen {
		errs = append(errs, errors.New("preview listen equals listen"))
	}
	for _, a := range r.Internal {
		if a == "" || a == r.Listen || a == r.PreviewListen {
			errs = append(errs, fmt.Errorf("internal address %q is empty or the route's listen or preview address", a))
		}
	}
	switch r.Balance {
	case "":
		r.Balance = balanceLeast
	case balanceLeast, balanceRR:
	default:
		errs = append(errs, fmt.Errorf("balance %q is not least_requests or round_robin", r.Balance))
	}
	switch r.Protocol {
	case "", ProtocolHTTP1:
		r.Protocol = ProtocolHTTP1
	case ProtocolH2C:
	default:
		errs = append(errs, fmt.Errorf("protocol %q is not http1 or h2c", r.Protocol))
	}
	errs = append(errs, r.Canary.validate()...)
	errs = append(errs, r.Limits.validate()...)
	errs = append(errs, r.TLS.validate()...)
	errs = append(errs, validateEndpoints(r.Endpoints, r.EndpointHeader)...)
	if r.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v is negative", r.Timeout))
	}
	hosts := make([]string, 0, len(r.Hosts))
	for _, h := range r.Hosts {
		h = normalHost(h)
		if h == "" || h == "*." || strings.Contains(h[1:], "*") || (h[0] == '*' && !strings.HasPrefix(h, "*.")) ||
			!visibleASCII(h) {
			errs = append(errs, fmt.Errorf("host %q is not a host or *.domain", h))
		}
		hosts = append(hosts, h)
	}
	r.Hosts = hosts
	paths := slices.Clone(r.Paths)
	if len(paths) == 0 {
		paths = []string{"/"}
	}
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") {
			errs = append(errs, fmt.Errorf("path %q does not start with /", p))
		}
	}
	r.Paths = paths
	if err := errors.Join(errs...); err != nil {
		return r, fmt.Errorf("route %s: %w", r.Service, err)
	}
	return r, nil
}

// visibleASCII reports whether h has only printable, non-space ASCII bytes. Hosts arrive in
// that form (Go's server refuses any other Host), and lower-casing anything else could make
// different hosts equal (strings.ToLower turns every invalid UTF-8 byte into U+FFFD).
func visibleASCII(h string) bool {
	for i := 0; i < len(h); i++ {
		if h[i] <= ' ' || h[i] > '~' {
			return false
		}
	}
	return true
}

func normalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}

// Conflict reports whether routes a and b cannot both be served: they share an address
// (Listen, PreviewListen or TLS.HTTPListen of either) that one serves over TLS and the other
// not, or one where they share a host pattern (or both match any host) and a path prefix. It
// ignores the services' names and is pure, for validating before deploying.
func Conflict(a, b Route) bool {
	if sharesInternal(a, b) || sharesInternal(b, a) {
		return true // an internal address serves one route, for any host
	}
	shared := false
	for _, x := range addrsOf(a) {
		for _, y := range addrsOf(b) {
			if x.addr != y.addr {
				continue
			}
			if x.secure != y.secure {
				return true // one address cannot serve both plain HTTP and TLS
			}
			shared = true
		}
	}
	return shared && overlaps(hostKeys(a.Hosts), hostKeys(b.Hosts)) && overlaps(pathKeys(a.Paths), pathKeys(b.Paths))
}

// routeAddr is one address a route is served on, and whether over TLS.
type routeAddr struct {
	addr   string
	secure bool
}

func addrsOf(r Route) []routeAddr {
	secure := r.TLS != nil
	out := []routeAddr{{r.Listen, secure}}
	if r.PreviewListen != "" {
		out = append(out, routeAddr{r.PreviewListen, secure})
	}
	if h := r.httpListen(); h != "" {
		out = append(out, routeAddr{h, false})
	}
	for _, a := range r.Internal {
		out = append(out, routeAddr{a, secure})
	}
	return out
}

// sharesInternal reports whether an internal address of a is any address of b.
func sharesInternal(a, b Route) bool {
	for _, x := range a.Internal {
		for _, y := range addrsOf(b) {
			if x == y.addr {
				return true
			}
		}
	}
	return false
}

func hostKeys(hosts []string) []string {
	if len(hosts) == 0 {
		return []string{""} // any host
	}
	keys := make([]string, len(hosts))
	for i, h := range hosts {
		keys[i] = normalHost(h)
	}
	return keys
}

func pathKeys(paths []string) []string {
	if len(paths) == 0 {
		return []string{"/"}
	}
	return paths
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// SetRoute adds or replaces the route of r.Service. It opens the new listen addresses at once
// (so "address already in use" is returned here), closes the ones no route uses any more and
// swaps in a new route table. It returns an error, changing nothing, if r is invalid, if it
// conflicts with another service's route (the error names that service), if an address cannot
// be opened or if Run has returned.
func (p *Proxy) SetRoute(r Route) error {
	r, err := r.normalize()
	if err != nil {
		return err
	}
	cert, err := loadCert(r)
	if err == nil {
		err = p.validateACME(r)
	}
	if err != nil {
		return fmt.Errorf("set route %s: %w", r.Service, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return fmt.Errorf("set route %s: proxy stopped", r.Service)
	}
	for name, other := range p.routes {
		if name != r.Service && Conflict(r, other) {
			return fmt.Errorf("set route %s: conflicts with the route of service %s", r.Service, name)
		}
	}
	if err := p.openRouteListeners(r); err != nil {
		return fmt.Errorf("set route %s: %w", r.Service, err)
	}
	p.routes[r.Service] = r
	p.setCert(r.Service, cert)
	p.manageCerts(r.Service, &r)
	s := p.slot(r.Service)
	s.setLimits(r.Limits)
	timeout := r.Timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	if h2c := r.Protocol == ProtocolH2C; timeout != s.timeout || h2c != s.h2c {
		s.timeout, s.h2c = timeout, h2c
		p.retimeTargets(s)
	}
	p.rebuildTable()
	p.closeUnused()
	p.refreshCerts()
	return nil
}

// openRouteListeners opens r's addresses in their modes. Callers hold p.mu.
func (p *Proxy) openRouteListeners(r Route) error {
	var secure, plain []string
	for _, a := range addrsOf(r) {
		if a.secure {
			secure = append(secure, a.addr)
		} else {
			plain = append(plain, a.addr)
		}
	}
	p.reopenForTLS(secure, true)
	p.reopenForTLS(plain, false)
	if err := p.openListeners(secure, true); err != nil {
		return err
	}
	return p.openListeners(plain, false)
}

// RemoveRoute removes the service's route; its requests then get 404. Listeners no route uses
// any more are closed. The service's targets and counters are kept.
func (p *Proxy) RemoveRoute(service string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.routes[service]; !ok {
		return
	}
	delete(p.routes, service)
	p.setCert(service, nil)
	p.manageCerts(service, nil)
	p.rebuildTable()
	p.closeUnused()
	p.refreshCerts()
}

// rebuildTable builds the route table from p.routes and swaps it in. Callers hold p.mu.
func (p *Proxy) rebuildTable() {
	slots := make(map[string]int, len(p.listeners))
	for key, l := range p.listeners {
		slots[key] = l.slot
	}
	svcs := make(map[string]*serviceSlot, len(p.routes))
	for name := range p.routes {
		svcs[name] = p.slot(name)
	}
	p.table.Store(buildTable(p.routes, slots, svcs))
}
