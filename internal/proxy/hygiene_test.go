package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingUpstream returns an upstream that counts the requests it receives and sends every
// request's header (with its Content-Length and Transfer-Encoding) to seen.
func countingUpstream(t *testing.T) (*httptest.Server, *atomic.Int64, chan http.Header) {
	t.Helper()
	var n atomic.Int64
	seen := make(chan http.Header, 64)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h := r.Header.Clone()
		if len(r.TransferEncoding) > 0 {
			h["Transfer-Encoding"] = r.TransferEncoding
		}
		_, _ = io.Copy(io.Discard, r.Body)
		seen <- h
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(up.Close)
	return up, &n, seen
}

// rawExchange writes req to a fresh connection to addr and returns the answer's status, or 0
// when the proxy closed the connection without one.
func rawExchange(t *testing.T, addr, req string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestAmbiguousRequestsRejected sends hand-written ambiguous or malformed requests on a raw
// socket: each must be answered with a 4xx/5xx refusal (or the connection closed) and none
// may reach the upstream. A well-formed request after each proves the proxy still forwards.
func TestAmbiguousRequestsRejected(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	up, count, seen := countingUpstream(t)
	p.SetTargets("web", one(up), 0)

	const host = "Host: a.example\r\n"
	tests := ambiguousRequests
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := count.Load()
			status := rawExchange(t, addr, tt.req)
			if status != 0 && status < 400 {
				t.Errorf("got status %d, want a refusal (4xx/5xx or closed connection)", status)
			}
			// The chunked-body case may reach the upstream only after the status was written:
			// give a forwarded request time to arrive before counting.
			if status != 0 && status < 400 {
				<-seen
			}
			if n := count.Load() - before; n != 0 {
				t.Errorf("%d request(s) reached the upstream, want none", n)
			}
			if s := rawExchange(t, addr, "GET / HTTP/1.1\r\n"+host+"Connection: close\r\n\r\n"); s != http.StatusOK {
				t.Errorf("well-formed request after it: got %d, want 200", s)
			}
			<-seen
		})
	}
}

// TestForwardedHeaders checks on a raw socket that hop-by-hop headers (and those Connection
// names) never reach the upstream, and that a client's X-Forwarded-* headers are overwritten
// unless it is a trusted proxy.
func TestForwardedHeaders(t *testing.T) {
	const req = "GET / HTTP/1.1\r\nHost: app.example\r\n" +
		"X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\n" +
		"Connection: close, X-Secret\r\nX-Secret: s3\r\nKeep-Alive: timeout=5\r\n" +
		"Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\nTe: gzip\r\n" +
		"Upgrade: h2c\r\nX-Kept: yes\r\n\r\n"
	tests := []struct {
		name    string
		trusted []netip.Prefix
		want    map[string]string
	}{
		{"untrusted client", nil, map[string]string{
			"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "app.example",
		}},
		{"other network trusted", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, map[string]string{
			"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "app.example",
		}},
		{"trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, map[string]string{
			"X-Forwarded-For": "1.2.3.4, 127.0.0.1", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProxy(t, Config{TrustedProxies: tt.trusted})
			addr := route(t, p, Route{Service: "web"})
			up, _, seen := countingUpstream(t)
			p.SetTargets("web", one(up), 0)
			if s := rawExchange(t, addr, req); s != http.StatusOK {
				t.Fatalf("got status %d, want 200", s)
			}
			h := <-seen
			for _, k := range []string{"X-Secret", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Te", "Upgrade", "Connection"} {
				if v, ok := h[k]; ok {
					t.Errorf("hop-by-hop %s reached the upstream: %q", k, v)
				}
			}
			tt.want["X-Kept"] = "yes"
			for k, v := range tt.want {
				if got := strings.Join(h[k], ", "); got != v {
					t.Errorf("upstream saw %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestClientForwardingHeaders checks on a raw socket that the other headers by which proxies
// tell an app who the client is and how it came (Forwarded, X-Real-IP, True-Client-IP,
// X-Forwarded-Port, X-Forwarded-Prefix and their kin) reach the app only from a trusted proxy,
// and that an h2c upgrade never reaches it.
func TestClientForwardingHeaders(t *testing.T) {
	forged := map[string]string{
		"Forwarded": "for=1.2.3.4;proto=https;host=evil.example", "X-Real-Ip": "1.2.3.4",
		"True-Client-Ip": "1.2.3.4", "X-Forwarded-Port": "443", "X-Forwarded-Prefix": "/admin",
		"X-Forwarded-Server": "evil.example", "X-Forwarded-Ssl": "on", "X-Client-Ip": "1.2.3.4",
		"Cf-Connecting-Ip": "1.2.3.4", "X-Original-Url": "/admin", "X-Rewrite-Url": "/admin",
	}
	var req strings.Builder
	req.WriteString("GET / HTTP/1.1\r\nHost: app.example\r\n")
	for k, v := range forged {
		req.WriteString(k + ": " + v + "\r\n")
	}
	req.WriteString("\r\n")
	const h2c = "GET / HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade, HTTP2-Settings\r\n" +
		"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
	for _, trusted := range []bool{false, true} {
		t.Run(fmt.Sprintf("trusted=%v", trusted), func(t *testing.T) {
			cfg := Config{}
			if trusted {
				cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
			}
			p := startProxy(t, cfg)
			addr := route(t, p, Route{Service: "web"})
			up, _, seen := countingUpstream(t)
			p.SetTargets("web", one(up), 0)
			if s := rawExchange(t, addr, req.String()); s != http.StatusOK {
				t.Fatalf("got status %d, want 200", s)
			}
			h := <-seen
			for k, v := range forged {
				got, ok := h[k]
				switch {
				case trusted && strings.Join(got, ", ") != v:
					t.Errorf("from a trusted proxy, upstream saw %s = %q, want %q", k, got, v)
				case !trusted && ok:
					t.Errorf("from an untrusted client, %s = %q reached the upstream", k, got)
				}
			}
			if s := rawExchange(t, addr, h2c); s != http.StatusOK {
				t.Fatalf("h2c upgrade: got status %d, want 200 (served as HTTP/1.1)", s)
			}
			h = <-seen
			for _, k := range []string{"Upgrade", "Connection", "Http2-Settings"} {
				if v, ok := h[k]; ok {
					t.Errorf("h2c upgrade: %s = %q reached the upstream", k, v)
				}
			}
		})
	}
}

// TestGuardKeepsFraming pipelines well-formed requests with every body framing on one
// connection, then an ambiguous one: the guard must follow the framing, forward the good ones
// and refuse only the last.
func TestGuardKeepsFraming(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	up, count, _ := countingUpstream(t)
	p.SetTargets("web", one(up), 0)
	const host = "Host: a.example\r\n"
	reqs := "POST / HTTP/1.1\r\n" + host + "Content-Length: 30\r\n\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"\r\nOPTIONS * HTTP/1.1\r\n" + host + "\r\n" +
		"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n" +
		"5;ext=1\r\nab\nc\n\r\n1a\r\nContent-Length: 3\r\n\r\nabcde\r\n0\r\nX-Trailer: 1\r\n\r\n" +
		"GET / HTTP/1.1\r\n" + host + "\r\n" +
		"POST / HTTP/1.1\r\n" + host + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, reqs); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var got []int
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	want := []int{200, 200, 200, 200, 400}
	if !slices.Equal(got, want) {
		t.Errorf("statuses: got %v, want %v", got, want)
	}
	if n := count.Load(); n != 3 {
		t.Errorf("upstream got %d requests, want 3", n)
	}
}

// ambiguousRequests are the raw requests of the test above; TestFastLoopHandsOffAmbiguous checks that
// the h1 loop serves none of them itself.
var ambiguousRequests = func() []struct{ name, req string } {
	const host = "Host: a.example\r\n"
	return []struct{ name, req string }{
		{"content-length and chunked",
			"POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{"chunked and content-length",
			"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{"duplicate content-length, different values",
			"POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"},
		{"duplicate content-length, same values",
			"POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc"},
		{"content-length list",
			"POST / HTTP/1.1\r\n" + host + "Content-Length: 3, 3\r\n\r\nabc"},
		{"signed content-length",
			"POST / HTTP/1.1\r\n" + host + "Content-Length: +3\r\n\r\nabc"},
		{"invalid header name",
			"GET / HTTP/1.1\r\n" + host + "X Bad[]: 1\r\n\r\n"},
		{"space before colon",
			"POST / HTTP/1.1\r\n" + host + "Content-Length : 3\r\n\r\nabc"},
		{"obs-fold",
			"GET / HTTP/1.1\r\n" + host + "X-Folded: a\r\n b\r\n\r\n"},
		{"transfer-encoding gzip",
			"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\nabc"},
		{"transfer-encoding gzip, chunked",
			"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{"transfer-encoding twice",
			"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{"transfer-encoding with spaces in value",
			"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: x chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{"http/1.0 with transfer-encoding and content-length",
			"POST / HTTP/1.0\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc"},
		{"bare LF line endings",
			"GET / HTTP/1.1\nHost: a.example\nX-A: 1\n\n"},
		{"bare LF after a header",
			"POST / HTTP/1.1\r\n" + host + "X-A: 1\nContent-Length: 3\r\n\r\nabc"},
		{"no host",
			"GET / HTTP/1.1\r\n\r\n"},
		{"two hosts",
			"GET / HTTP/1.1\r\n" + host + host + "\r\n"},
		{"bare CR in header value",
			"GET / HTTP/1.1\r\n" + host + "X-A: a\rb\r\n\r\n"},
		{"NUL in header value",
			"GET / HTTP/1.1\r\n" + host + "X-A: a\x00b\r\n\r\n"},
		{"bad chunk size",
			"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"},
		{"space in request target",
			"GET /a b HTTP/1.1\r\n" + host + "\r\n"},
		{"bad version",
			"GET / HTTP/1.x\r\n" + host + "\r\n"},
	}
}()
