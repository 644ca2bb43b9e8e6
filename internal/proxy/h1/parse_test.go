package h1

import (
	"net/http"
	"reflect"
	"testing"
)

func TestParseReady(t *testing.T) {
	in := "GET /a/b?x=1&y HTTP/1.1\r\nHost: a.example:8080\r\nAccept: */*\r\nx-multi: 1\r\nX-Multi: 2\r\n" +
		"Connection: keep-alive, Close\r\nContent-Length: 3\r\nX-Obs: \t caf\xc3\xa9 \r\n\r\nabcGET"
	h, n, o := Parse([]byte(in), 8<<10)
	if o != Ready {
		t.Fatalf("outcome %d, want Ready", o)
	}
	if want := len(in) - len("abcGET"); n != want {
		t.Errorf("head length %d, want %d", n, want)
	}
	if h.Method != "GET" || h.Target != "/a/b?x=1&y" || h.URL.Path != "/a/b" || h.URL.RawQuery != "x=1&y" {
		t.Errorf("request line: got %q %q path %q query %q", h.Method, h.Target, h.URL.Path, h.URL.RawQuery)
	}
	if h.Host != "a.example:8080" || !h.Close || h.ContentLength != 3 {
		t.Errorf("host %q close %v length %d", h.Host, h.Close, h.ContentLength)
	}
	want := http.Header{"Accept": {"*/*"}, "X-Multi": {"1", "2"}, "Connection": {"keep-alive, Close"},
		"Content-Length": {"3"}, "X-Obs": {"caf\xc3\xa9"}}
	if !reflect.DeepEqual(h.Header, want) {
		t.Errorf("header %v, want %v", h.Header, want)
	}
}

func TestParseIncomplete(t *testing.T) {
	for _, in := range []string{"", "GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r"} {
		if _, _, o := Parse([]byte(in), 8<<10); o != Incomplete {
			t.Errorf("%q: outcome %d, want Incomplete", in, o)
		}
	}
}

// TestParseOther lists requests the loop leaves to net/http: beyond its subset or malformed.
func TestParseOther(t *testing.T) {
	const host = "Host: a\r\n"
	for _, in := range []string{
		"GET / HTTP/1.0\r\n" + host + "\r\n",
		"GET http://a/ HTTP/1.1\r\n" + host + "\r\n",
		"OPTIONS * HTTP/1.1\r\n" + host + "\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"get / HTTP/1.1\r\n" + host + "\r\n",
		"GET  / HTTP/1.1\r\n" + host + "\r\n",
		"GET / HTTP/1.1 \r\n" + host + "\r\n",
		"GET /%zz HTTP/1.1\r\n" + host + "\r\n",
		"GET /\x7f HTTP/1.1\r\n" + host + "\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\n" + host + host + "\r\n",
		"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost:\r\n\r\n",
		"GET / HTTP/1.1\r\n" + host + "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.1\r\n" + host + "Expect: 100-continue\r\nContent-Length: 1\r\n\r\n",
		"POST / HTTP/1.1\r\n" + host + "Content-Length: 1\r\nContent-Length: 1\r\n\r\n",
		"POST / HTTP/1.1\r\n" + host + "Content-Length: 0x1\r\n\r\n",
		"POST / HTTP/1.1\r\n" + host + "Content-Length: 1234567890123456789\r\n\r\n",
		"GET / HTTP/1.1\r\n" + host + "X-A: 1\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\n" + host + "X-A : 1\r\n\r\n",
		"GET / HTTP/1.1\r\n" + host + "X-A: a\rb\r\n\r\n",
		"GET / HTTP/1.1\r\n" + host + "X-A: a\x00b\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\n\n",
		"GET / HTTP/1.1\r\nHost: a\nX: 1\r\n", // a bare LF: never a CRLFCRLF, handed off at once
		"\r\nGET / HTTP/1.1\r\n" + host + "\r\n",
	} {
		if _, _, o := Parse([]byte(in), 8<<10); o != Other {
			t.Errorf("%q: outcome %d, want Other", in, o)
		}
	}
	big := "GET / HTTP/1.1\r\n" + host + "X: " + string(make([]byte, 100)) + "\r\n\r\n"
	if _, _, o := Parse([]byte(big), 64); o != Other {
		t.Errorf("a head over the limit: outcome %d, want Other", o)
	}
}

func TestParseEscapedTarget(t *testing.T) {
	h, _, o := Parse([]byte("GET /a%2Fb/c%20d?q=%41 HTTP/1.1\r\nHost: a\r\n\r\n"), 8<<10)
	if o != Ready || h.URL.Path != "/a/b/c d" || h.URL.RawPath != "/a%2Fb/c%20d" || h.URL.RawQuery != "q=%41" {
		t.Errorf("outcome %d, URL %#v", o, h.URL)
	}
}
