package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"
)

// hopByHop are the headers that describe one connection and are never forwarded (RFC 9110
// section 7.6.1), in canonical form.
var hopByHop = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Http2-Settings", // RFC 9113 section 3.1 withdrew h2c's upgrade; never forward it
}

// clientForwarding reports whether k (canonical) is one of the headers, besides the
// X-Forwarded-For/-Proto/-Host the proxy sets itself, by which proxies tell an app who the
// client is, how it came or which path it asked for. An app may trust them (for logs, rate
// limits, redirects, access rules), so they reach it only from a trusted proxy.
func clientForwarding(k string) bool {
	switch k {
	case "Forwarded", "X-Real-Ip", "True-Client-Ip", "X-Client-Ip", "Cf-Connecting-Ip",
		"X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server", "X-Forwarded-Ssl",
		"X-Forwarded-Scheme", "X-Forwarded-Uri", "X-Forwarded-Path", "X-Url-Scheme",
		"Front-End-Https", "X-Original-Url", "X-Rewrite-Url", "X-Original-Forwarded-For":
		return true
	}
	return false
}

// Shared read-only header values; full slice expressions so that an append copies.
var (
	valHTTP      = []string{"http"}[:1:1]
	valHTTPS     = []string{"https"}[:1:1]
	valEmpty     = []string{""}[:1:1]
	valText      = []string{"text/plain; charset=utf-8"}[:1:1]
	valNosniff   = []string{"nosniff"}[:1:1]
	valRetry1    = []string{"1"}[:1:1]
	valUpgrade   = []string{"Upgrade"}[:1:1]
	valClose     = []string{"close"}[:1:1]
	valTrailers  = []string{"trailers"}[:1:1]
	canonicalTE  = "Te"
	canonicalUA  = "User-Agent"
	canonicalXFF = "X-Forwarded-For"
)

// removeHopByHop deletes the hop-by-hop headers from h, including those named in Connection.
func removeHopByHop(h http.Header) {
	for _, v := range h["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			if tok = textproto.TrimString(tok); tok != "" {
				delete(h, http.CanonicalHeaderKey(tok))
			}
		}
	}
	for _, k := range hopByHop {
		delete(h, k)
	}
}

// upgradeType returns the protocol the request or response asks to upgrade to, or "".
func upgradeType(h http.Header) string {
	for _, v := range h["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(textproto.TrimString(tok), "upgrade") {
				return h.Get("Upgrade")
			}
		}
	}
	return ""
}

// rewriteRequest turns the inbound request's header into the upstream request's, in place
// (the server does not read it once the handler runs): hop-by-hop headers are removed (an
// upgrade is kept, but not one to h2c), X-Forwarded-For/-Proto/-Host are set (a client's own
// are kept only from a trusted proxy), the other forwarding headers (clientForwarding) are
// removed unless the client is a trusted proxy, and the request id is kept or generated. It
// returns the request id's header value and the upgrade protocol, if any.
func (p *Proxy) rewriteRequest(r *http.Request) (reqID []string, upgrade string) {
	h := r.Header
	upgrade = upgradeType(h)
	if upgrade != "" && h2c(upgrade) {
		upgrade = "" // served as the HTTP/1.1 request it also is
	}
	te := trailersTE(h)
	removeHopByHop(h)
	if upgrade != "" {
		h["Connection"] = valUpgrade
		h["Upgrade"] = []string{upgrade}
	}
	if te {
		h[canonicalTE] = valTrailers
	}
	// One allocation for the values this request needs.
	vals := make([]string, 3)
	vals[0] = clientIP(r.RemoteAddr)
	trusted := p.trusted(vals[0])
	if !trusted {
		for k := range h {
			if clientForwarding(k) {
				delete(h, k)
			}
		}
	}
	if prior, ok := h[canonicalXFF]; ok && len(prior) > 0 && trusted {
		vals[0] = strings.Join(prior, ", ") + ", " + vals[0]
	}
	h[canonicalXFF] = vals[0:1:1]
	if _, ok := h["X-Forwarded-Proto"]; !ok || !trusted {
		h["X-Forwarded-Proto"] = valHTTP
		if r.TLS != nil {
			h["X-Forwarded-Proto"] = valHTTPS
		}
	}
	if _, ok := h["X-Forwarded-Host"]; !ok || !trusted {
		vals[1] = r.Host
		h["X-Forwarded-Host"] = vals[1:2:2]
	}
	if _, ok := h[canonicalUA]; !ok {
		h[canonicalUA] = valEmpty // keep Go's transport from adding its own
	}
	key := p.cfg.RequestIDHeader
	if id := h[key]; len(id) > 0 && id[0] != "" {
		return id[:1:1], upgrade
	}
	vals[2] = p.ids.next()
	h[key] = vals[2:3:3]
	return h[key], upgrade
}

// h2c reports whether the upgrade protocols list h2c.
func h2c(upgrade string) bool {
	for tok := range strings.SplitSeq(upgrade, ",") {
		if strings.EqualFold(textproto.TrimString(tok), "h2c") {
			return true
		}
	}
	return false
}

// trusted reports whether the client at ip is a trusted proxy whose X-Forwarded-* headers
// are kept.
func (p *Proxy) trusted(ip string) bool {
	if len(p.cfg.TrustedProxies) == 0 {
		return false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, n := range p.cfg.TrustedProxies {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

func trailersTE(h http.Header) bool {
	for _, v := range h[canonicalTE] {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(textproto.TrimString(tok), "trailers") {
				return true
			}
		}
	}
	return false
}

func clientIP(remoteAddr string) string {
	if i := strings.LastIndexByte(remoteAddr, ':'); i >= 0 {
		remoteAddr = remoteAddr[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(remoteAddr, "["), "]")
}

// copyResponseHeader copies the upstream's end-to-end headers to dst and announces its
// trailers.
func copyResponseHeader(dst, src http.Header, trailer http.Header) {
	removeHopByHop(src)
	for k, vv := range src {
		dst[k] = vv
	}
	if len(trailer) > 0 {
		keys := make([]string, 0, len(trailer))
		for k := range trailer {
			keys = append(keys, k)
		}
		dst["Trailer"] = []string{strings.Join(keys, ", ")}
	}
}

// requestIDs generates request ids: a random per-process prefix and a counter.
type requestIDs struct {
	prefix [16]byte
	n      atomic.Uint64
}

func (g *requestIDs) init() {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	hex.Encode(g.prefix[:], b[:])
}

func (g *requestIDs) next() string {
	var b [40]byte
	buf := append(b[:0], g.prefix[:]...)
	buf = append(buf, '-')
	buf = strconv.AppendUint(buf, g.n.Add(1), 16)
	return string(buf)
}
