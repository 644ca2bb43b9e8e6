package proxy

import (
	"net/http"
	"testing"
)

// TestMoreAmbiguousRequestsRejected adds raw-socket cases to TestAmbiguousRequestsRejected:
// framing headers in other spellings and header names that are not tokens. Each is refused
// and none reaches the upstream, which counts requests.
func TestMoreAmbiguousRequestsRejected(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Limits: Limits{MaxBody: 1 << 20}})
	up, count, seen := countingUpstream(t)
	p.SetTargets("web", one(up), 0)

	const host = "Host: a.example\r\n"
	tests := moreAmbiguousRequests
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := count.Load()
			status := rawExchange(t, addr, tt.req)
			if status != 0 && status < 400 {
				<-seen
				t.Errorf("got status %d, want a refusal (4xx/5xx or closed connection)", status)
			}
			if n := count.Load() - before; n != 0 {
				t.Errorf("%d request(s) reached the upstream, want none", n)
			}
			if s := rawExchange(t, addr, "GET / HTTP/1.1\r\n"+host+"Connection: close\r\n\r\n"); s != http.StatusOK {
				t.Fatalf("well-formed request after it: got %d, want 200", s)
			}
			<-seen
		})
	}
}

// moreAmbiguousRequests are the raw requests of the test above; TestFastLoopHandsOffAmbiguous checks that
// the h1 loop serves none of them itself.
var moreAmbiguousRequests = func() []struct{ name, req string } {
	const host = "Host: a.example\r\n"
	return []struct{ name, req string }{
		{"lower-case content-length and transfer-encoding",
			"POST / HTTP/1.1\r\n" + host + "content-length: 3\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{"mixed-case duplicate content-length",
			"POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\ncontent-LENGTH: 3\r\n\r\nabc"},
		{"transfer-encoding chunked twice in one value",
			"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{"tab before colon",
			"POST / HTTP/1.1\r\n" + host + "Content-Length\t: 3\r\n\r\nabc"},
		{"header name with @", "GET / HTTP/1.1\r\n" + host + "X@Bad: 1\r\n\r\n"},
		{"header name with a non-ASCII byte", "GET / HTTP/1.1\r\n" + host + "X-B\xe4d: 1\r\n\r\n"},
		{"empty header name", "GET / HTTP/1.1\r\n" + host + ": 1\r\n\r\n"},
		{"negative content-length", "POST / HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n"},
		{"content-length not a number", "POST / HTTP/1.1\r\n" + host + "Content-Length: 3x\r\n\r\nabc"},
		{"chunk size overflow",
			"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n"},
	}
}()
