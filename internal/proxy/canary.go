package proxy

import (
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/bucket"
)

// CanaryRouting steers a route's requests between the service's revision groups by what the
// request carries rather than by chance. The zero value leaves the weighted choice alone.
type CanaryRouting struct {
	// Header names a request header whose value "always" (or "canary") forces the group with
	// Role "canary" and "never" (or "stable") the group with Role "stable", case-insensitively;
	// any other value is ignored. Forcing applies only when the service has a group of that
	// role with targets (the lowest revision of that role if several); otherwise the request
	// gets the normal choice. A forced request may still go elsewhere when every target of the
	// forced group is ejected or refuses the connection.
	Header string
	// Cookie names a request cookie with the same values as Header. Header wins when both
	// carry a recognised value.
	Cookie string
	// Sticky is "" (off), "cookie:NAME", "header:NAME" or "client_ip" (the connection's peer
	// address; X-Forwarded-For is not trusted). When on, a request carrying the key gets the
	// group owning bucket.Of(service, key), with the buckets laid out by weight in the fixed
	// order canary, baseline, stable, then other groups by revision: at a fixed weight a key
	// always sees one revision, and raising the canary's weight only moves keys from the
	// groups after it to the canary. Requests without the key get the weighted choice.
	Sticky string
}

// Roles of a revision group (Group.Role) the proxy knows.
const (
	roleCanary   = "canary"
	roleBaseline = "baseline"
	roleStable   = "stable"
	roleUnknown  = "unknown" // the metrics' label for ""
)

// Kinds of sticky key.
const (
	stickyOff uint8 = iota
	stickyCookie
	stickyHeader
	stickyClientIP
)

// Forced groups.
const (
	forceNone uint8 = iota
	forceCanary
	forceStable
)

// parseSticky splits a CanaryRouting.Sticky value into its kind and name (a canonical header
// key for header:NAME).
func parseSticky(s string) (kind uint8, name string, err error) {
	switch {
	case s == "":
		return stickyOff, "", nil
	case s == "client_ip":
		return stickyClientIP, "", nil
	}
	if n, ok := strings.CutPrefix(s, "cookie:"); ok && isToken(n) {
		return stickyCookie, n, nil
	}
	if n, ok := strings.CutPrefix(s, "header:"); ok && isToken(n) {
		return stickyHeader, http.CanonicalHeaderKey(n), nil
	}
	return stickyOff, "", fmt.Errorf("canary sticky %q is not cookie:NAME, header:NAME or client_ip", s)
}

// validate checks the names in c and returns one error per bad field.
func (c CanaryRouting) validate() []error {
	var errs []error
	if c.Header != "" && !isToken(c.Header) {
		errs = append(errs, fmt.Errorf("canary header %q is not a valid header name", c.Header))
	}
	if c.Cookie != "" && !isToken(c.Cookie) {
		errs = append(errs, fmt.Errorf("canary cookie %q is not a valid cookie name", c.Cookie))
	}
	if _, _, err := parseSticky(c.Sticky); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// isToken reports whether s is a non-empty RFC 9110 token, as header and cookie names are.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// canaryEntry is a route's CanaryRouting in the form requests read it.
type canaryEntry struct {
	header     string // canonical header key, "" if none
	cookie     string
	stickyKind uint8
	stickyName string // cookie name or canonical header key
}

// newCanaryEntry converts a validated CanaryRouting.
func newCanaryEntry(c CanaryRouting) canaryEntry {
	e := canaryEntry{cookie: c.Cookie}
	if c.Header != "" {
		e.header = http.CanonicalHeaderKey(c.Header)
	}
	e.stickyKind, e.stickyName, _ = parseSticky(c.Sticky)
	return e
}

// choice is what a request asks of its service's traffic.
type choice struct {
	preview     bool   // asks for the preview revision
	previewOnly bool   // on a preview listener: no fallback to the normal split
	rr          bool   // round robin within the group
	force       uint8  // forceNone, forceCanary or forceStable
	salt, key   string // sticky key and its salt (the service); key "" for none
}

// choice reads what r asks for. It does not allocate.
func (e *pathEntry) choice(r *http.Request, previewReq bool) choice {
	c := choice{preview: previewReq, previewOnly: e.preview, rr: e.roundRobin}
	if e.preview {
		return c
	}
	c.force = e.canary.forced(r.Header)
	if c.force == forceNone {
		c.salt, c.key = e.svc.name, e.canary.stickyKey(r)
	}
	return c
}

// forced returns the group the request's override header or cookie asks for.
func (e *canaryEntry) forced(h http.Header) uint8 {
	if e.header != "" {
		if v := h[e.header]; len(v) > 0 {
			if f := forceOf(v[0]); f != forceNone {
				return f
			}
		}
	}
	if e.cookie != "" {
		if v, ok := cookieValue(h, e.cookie); ok {
			return forceOf(v)
		}
	}
	return forceNone
}

func forceOf(v string) uint8 {
	v = textproto.TrimString(v)
	switch {
	case strings.EqualFold(v, "always"), strings.EqualFold(v, roleCanary):
		return forceCanary
	case strings.EqualFold(v, "never"), strings.EqualFold(v, roleStable):
		return forceStable
	}
	return forceNone
}

// stickyKey returns the request's sticky key, or "" if it has none.
func (e *canaryEntry) stickyKey(r *http.Request) string {
	switch e.stickyKind {
	case stickyCookie:
		v, _ := cookieValue(r.Header, e.stickyName)
		return v
	case stickyHeader:
		if v := r.Header[e.stickyName]; len(v) > 0 {
			return v[0]
		}
	case stickyClientIP:
		return clientIP(r.RemoteAddr)
	}
	return ""
}

// cookieValue returns the value of the first cookie called name in h's Cookie headers, its
// double quotes removed. Unlike http.Request.Cookie it does not allocate.
func cookieValue(h http.Header, name string) (string, bool) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			n, v, ok := strings.Cut(textproto.TrimString(part), "=")
			if !ok || n != name {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}

// roleRank orders roles in the sticky layout: canary, baseline, stable, others.
func roleRank(role string) int {
	switch role {
	case roleCanary:
		return 0
	case roleBaseline:
		return 1
	case roleStable:
		return 2
	}
	return 3
}

// layOut fills the sticky layout and the forced groups from tr.groups and tr.weights:
// stickyOrder[i] owns the buckets below stickyCut[i] and at or above stickyCut[i-1].
func (tr *traffic) layOut() {
	idx := make([]int, len(tr.groups))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ga, gb := tr.groups[a], tr.groups[b]
		if d := roleRank(ga.role) - roleRank(gb.role); d != 0 {
			return d
		}
		return ga.rev.revNum - gb.rev.revNum
	})
	tr.stickyOrder = make([]*group, len(idx))
	tr.stickyCut = make([]uint32, len(idx))
	cum := 0
	for i, j := range idx {
		g := tr.groups[j]
		cum += tr.weights[j]
		tr.stickyOrder[i] = g
		tr.stickyCut[i] = uint32(uint64(cum) * bucket.Count / uint64(max(tr.total, 1)))
		switch {
		case g.role == roleCanary && tr.canary == nil:
			tr.canary = g
		case g.role == roleStable && tr.stable == nil:
			tr.stable = g
		}
	}
}

// stickyGroup returns the group owning bucket b.
func (tr *traffic) stickyGroup(b uint32) *group {
	for i, cut := range tr.stickyCut {
		if b < cut {
			return tr.stickyOrder[i]
		}
	}
	return tr.stickyOrder[len(tr.stickyOrder)-1]
}

// selectGroup picks the group for a request not bound to the preview revision: the forced
// group if there is one, the sticky key's group, or a weighted draw. It returns nil if the
// service has no group.
func (tr *traffic) selectGroup(c *choice) *group {
	switch {
	case len(tr.groups) == 0:
		return nil
	case c.force == forceCanary && tr.canary != nil:
		return tr.canary
	case c.force == forceStable && tr.stable != nil:
		return tr.stable
	case c.key != "" && len(tr.groups) > 1:
		return tr.stickyGroup(bucket.Of(c.salt, c.key))
	}
	return tr.pickGroup()
}
