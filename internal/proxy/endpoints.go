package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cutover/cutover/internal/latency"
)

// Endpoint is a named group of a route's requests whose counters are kept apart as well
// (Counts.Endpoints), so that the canary judge can see a regression confined to it: requests
// whose path has one of Paths as a prefix on a segment boundary (none: any path), whose
// method is one of Methods (none: any) and whose response carries the route's
// EndpointHeader with one of HeaderValues (none: any; a request answered by the proxy itself,
// such as a 502, has no such header). A request belongs to the first endpoint it matches.
type Endpoint struct {
	Name         string
	Paths        []string
	Methods      []string
	HeaderValues []string
}

// maxEndpointNames bounds the endpoints one revision's counters keep (names come from specs:
// a route has at most a few, and a revision sees one route's names).
const maxEndpointNames = 32

// endpointSet is a route's endpoints, in order, and the response header some of them match
// on: its canonical key ("" for none) and whether the client is spared it.
type endpointSet struct {
	list   []Endpoint
	header string
	strip  bool
}

// newEndpointSet returns the endpoints of r.
func newEndpointSet(r Route) endpointSet {
	s := endpointSet{list: r.Endpoints, strip: r.StripEndpointHeader}
	if r.EndpointHeader != "" {
		s.header = http.CanonicalHeaderKey(r.EndpointHeader)
	}
	return s
}

// match returns the name of the first endpoint the request belongs to, "" when none; value
// is the response's EndpointHeader value ("" when there is none, or no response).
func (s endpointSet) match(method, path, value string) string {
	for _, e := range s.list {
		if len(e.Methods) > 0 && !slices.Contains(e.Methods, method) {
			continue
		}
		if len(e.HeaderValues) > 0 && (value == "" || !slices.Contains(e.HeaderValues, value)) {
			continue
		}
		if len(e.Paths) == 0 {
			return e.Name
		}
		for _, p := range e.Paths {
			if prefixMatch(path, p) {
				return e.Name
			}
		}
	}
	return ""
}

// fromResponse sets x's endpoint from the upstream's answer when the route groups by a
// response header, and removes the header from what the client gets when asked to.
func (s endpointSet) fromResponse(x *exchange, r *http.Request, h http.Header) {
	if s.header == "" {
		return
	}
	var value string
	if vv := h[s.header]; len(vv) > 0 {
		value = vv[0]
	}
	x.endpoint = s.match(r.Method, r.URL.Path, value)
	if s.strip {
		delete(h, s.header)
	}
}

// validateEndpoints reports unnamed or twice-named endpoints, and header values without a
// header to read them from.
func validateEndpoints(eps []Endpoint, header string) []error {
	var errs []error
	if header == "" && slices.ContainsFunc(eps, func(e Endpoint) bool { return len(e.HeaderValues) > 0 }) {
		errs = append(errs, errors.New("endpoints match header values but the route names no endpoint header"))
	}
	for i, e := range eps {
		if e.Name == "" {
			errs = append(errs, fmt.Errorf("endpoint %d has no name", i))
		} else if slices.ContainsFunc(eps[:i], func(o Endpoint) bool { return o.Name == e.Name }) {
			errs = append(errs, fmt.Errorf("endpoint %q is named twice", e.Name))
		}
	}
	if len(eps) > maxEndpointNames {
		errs = append(errs, errors.New("too many endpoints"))
	}
	return errs
}

// endpointStats are one endpoint's counters for one revision.
type endpointStats struct {
	name     string
	requests atomic.Int64
	errors   atomic.Int64
	fine     [latency.Buckets]atomic.Int64
}

// endpoints are a revision's per-endpoint counters: a copy-on-write list, read without a lock.
type endpoints struct {
	mu   sync.Mutex
	list atomic.Pointer[[]*endpointStats]
}

// of returns the counters of the named endpoint, creating them; nil once maxEndpointNames
// names are kept.
func (e *endpoints) of(name string) *endpointStats {
	if l := e.list.Load(); l != nil {
		for _, s := range *l {
			if s.name == name {
				return s
			}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var old []*endpointStats
	if l := e.list.Load(); l != nil {
		old = *l
	}
	for _, s := range old {
		if s.name == name {
			return s
		}
	}
	if len(old) >= maxEndpointNames {
		return nil
	}
	s := &endpointStats{name: name}
	l := append(slices.Clip(old), s)
	e.list.Store(&l)
	return s
}

// observe counts one answered request of the named endpoint ("": none).
func (e *endpoints) observe(name string, status int, ns int64) {
	if name == "" {
		return
	}
	s := e.of(name)
	if s == nil {
		return
	}
	s.requests.Add(1)
	if status >= 500 {
		s.errors.Add(1)
	}
	s.fine[latency.Index(ns)].Add(1)
}

// counts returns each endpoint's counters, nil when there are none.
func (e *endpoints) counts() map[string]Counts {
	l := e.list.Load()
	if l == nil {
		return nil
	}
	out := make(map[string]Counts, len(*l))
	for _, s := range *l {
		c := Counts{Requests: s.requests.Load(), Errors: s.errors.Load(), Latency: make([]int64, latency.Buckets)}
		for i := range c.Latency {
			c.Latency[i] = s.fine[i].Load()
		}
		out[s.name] = c
	}
	return out
}
