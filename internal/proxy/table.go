package proxy

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
)

// routeTable is an immutable snapshot of every route, indexed by listener slot. It is built
// under Proxy.mu and read by requests through an atomic pointer.
type routeTable struct {
	byListener []*listenerRoutes
}

// listenerRoutes are the routes of one listener by host.
type listenerRoutes struct {
	exact    map[string]*pathSet
	wildcard map[string]*pathSet // "*.example.com" stored as "example.com"
	anyHost  *pathSet
}

// pathSet is the routes of one host pattern, longest prefix first.
type pathSet struct {
	entries []pathEntry
}

// pathEntry is one routable prefix with what a request matching it needs.
type pathEntry struct {
	prefix        string
	svc           *serviceSlot
	roundRobin    bool
	preview       bool   // on the route's PreviewListen: every request goes to the preview revision
	previewHeader string // canonical header key, "" if none
	canary        canaryEntry
	redirect      string   // on the route's TLS.HTTPListen: the HTTPS port suffix ("" for 443)
	hsts          []string // Strict-Transport-Security on TLS answers; nil for none
	isRedirect    bool
	endpoints     endpointSet
}

// buildTable builds the table for routes, given listener slots and service slots.
func buildTable(routes map[string]Route, slots map[string]int, svcs map[string]*serviceSlot) *routeTable {
	t := &routeTable{}
	for _, slot := range slots {
		if slot >= len(t.byListener) {
			t.byListener = slices.Grow(t.byListener, slot+1-len(t.byListener))[:slot+1]
		}
	}
	for name, r := range routes {
		e := pathEntry{svc: svcs[name], roundRobin: r.Balance == balanceRR, canary: newCanaryEntry(r.Canary),
			endpoints: newEndpointSet(r)}
		if r.PreviewHeader != "" {
			e.previewHeader = http.CanonicalHeaderKey(r.PreviewHeader)
		}
		e.hsts = hstsValue(r)
		t.add(slots[r.Listen], r, e)
		anyHost := r
		anyHost.Hosts = nil
		for _, a := range r.Internal {
			t.add(slots[a], anyHost, e)
		}
		if r.PreviewListen != "" {
			e.preview = true
			t.add(slots[r.PreviewListen], r, e)
		}
		if h := r.httpListen(); h != "" {
			t.add(slots[h], r, pathEntry{svc: e.svc, isRedirect: true, redirect: redirectPort(r.Listen)})
		}
	}
	for _, lr := range t.byListener {
		if lr == nil {
			continue
		}
		for _, ps := range lr.exact {
			ps.sort()
		}
		for _, ps := range lr.wildcard {
			ps.sort()
		}
		if lr.anyHost != nil {
			lr.anyHost.sort()
		}
	}
	return t
}

func (t *routeTable) add(slot int, r Route, e pathEntry) {
	lr := t.byListener[slot]
	if lr == nil {
		lr = &listenerRoutes{exact: map[string]*pathSet{}, wildcard: map[string]*pathSet{}}
		t.byListener[slot] = lr
	}
	var sets []*pathSet
	if len(r.Hosts) == 0 {
		if lr.anyHost == nil {
			lr.anyHost = &pathSet{}
		}
		sets = append(sets, lr.anyHost)
	}
	for _, h := range r.Hosts {
		m, key := lr.exact, h
		if suffix, ok := strings.CutPrefix(h, "*."); ok {
			m, key = lr.wildcard, suffix
		}
		ps := m[key]
		if ps == nil {
			ps = &pathSet{}
			m[key] = ps
		}
		sets = append(sets, ps)
	}
	for _, ps := range sets {
		for _, prefix := range r.Paths {
			e.prefix = prefix
			ps.entries = append(ps.entries, e)
		}
	}
}

func (ps *pathSet) sort() {
	slices.SortStableFunc(ps.entries, func(a, b pathEntry) int { return len(b.prefix) - len(a.prefix) })
}

// match returns the entry with the longest prefix of path, or nil.
func (ps *pathSet) match(path string) *pathEntry {
	if ps == nil {
		return nil
	}
	for i := range ps.entries {
		e := &ps.entries[i]
		if prefixMatch(path, e.prefix) {
			return e
		}
	}
	return nil
}

// prefixMatch reports whether prefix matches path on a segment boundary.
func prefixMatch(path, prefix string) bool {
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || prefix[len(prefix)-1] == '/' || path[len(prefix)] == '/'
}

// lookup finds the route for a request that arrived on listener slot. It does not allocate
// (unless host is longer than maxHostLen and has upper-case letters).
func (t *routeTable) lookup(slot int, host, path string) *pathEntry {
	if slot >= len(t.byListener) {
		return nil
	}
	lr := t.byListener[slot]
	if lr == nil {
		return nil
	}
	if path == "" {
		path = "/"
	}
	host = strings.TrimSuffix(stripPort(host), ".")
	if !hasUpper(host) {
		return lr.find(host, path)
	}
	if len(host) > maxHostLen {
		return lr.find(strings.ToLower(host), path)
	}
	var buf [maxHostLen]byte
	b := buf[:len(host)]
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return lr.findBytes(b, path)
}

// maxHostLen is the longest host lookup lowers on the stack (DNS names have at most 253).
const maxHostLen = 256

// find matches a lower-case host: exact, then wildcard suffixes from the longest, then any host.
func (lr *listenerRoutes) find(host, path string) *pathEntry {
	if len(lr.exact) > 0 {
		if e := lr.exact[host].match(path); e != nil {
			return e
		}
	}
	if len(lr.wildcard) > 0 {
		for i := strings.IndexByte(host, '.'); i >= 0; {
			if e := lr.wildcard[host[i+1:]].match(path); e != nil {
				return e
			}
			j := strings.IndexByte(host[i+1:], '.')
			if j < 0 {
				break
			}
			i += j + 1
		}
	}
	return lr.anyHost.match(path)
}

// findBytes is find for a host in a byte slice; indexing a map with string(b) does not
// allocate.
func (lr *listenerRoutes) findBytes(host []byte, path string) *pathEntry {
	if len(lr.exact) > 0 {
		if e := lr.exact[string(host)].match(path); e != nil {
			return e
		}
	}
	if len(lr.wildcard) > 0 {
		for i := bytes.IndexByte(host, '.'); i >= 0; {
			if e := lr.wildcard[string(host[i+1:])].match(path); e != nil {
				return e
			}
			j := bytes.IndexByte(host[i+1:], '.')
			if j < 0 {
				break
			}
			i += j + 1
		}
	}
	return lr.anyHost.match(path)
}

func hasUpper(h string) bool {
	for i := 0; i < len(h); i++ {
		if c := h[i]; 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

func stripPort(host string) string {
	if host == "" {
		return host
	}
	if host[0] == '[' {
		if i := strings.IndexByte(host, ']'); i > 0 {
			return host[1:i]
		}
		return host
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host, ':') == i {
		return host[:i]
	}
	return host
}
