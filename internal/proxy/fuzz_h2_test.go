package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// FuzzProxyH2 sends fuzzed HTTP/2 requests (h2c by prior knowledge: any header field list,
// pseudo-headers included, then a body in up to two DATA frames) to a real proxy listener in
// front of a raw upstream, and checks what FuzzProxyRequest checks of the HTTP/1.1 path: the
// proxy ends the stream (an answer, a reset or a GOAWAY) within a deadline, every request that
// reaches the upstream has one framing, no hop-by-hop header and the proxy's X-Forwarded-For,
// and nothing reaches it when the field list carries a connection-specific field (RFC 9113
// section 8.2.2: Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, a TE other
// than "trailers" or empty) or Content-Length twice (refused on HTTP/1.1 too). Each line of fields is one
// field, "name:value" (a leading ':' belongs to the name).
func FuzzProxyH2(f *testing.F) {
	for _, s := range []struct {
		fields string
		body   []byte
	}{
		{":method:GET\n:scheme:http\n:path:/\n:authority:a.example", nil},
		{":method:POST\n:scheme:http\n:path:/x\n:authority:a.example\ncontent-length:3", []byte("abc")},
		{":method:POST\n:scheme:http\n:path:/x\n:authority:a.example\ncontent-length:5", []byte("abc")},
		{":method:POST\n:scheme:http\n:path:/x\n:authority:a.example\ncontent-length:3\ncontent-length:4", []byte("abc")},
		{":method:POST\n:scheme:http\n:path:/\n:authority:a.example\ntransfer-encoding:chunked", []byte("3\r\nabc\r\n0\r\n\r\n")},
		{":method:GET\n:scheme:http\n:path:/\n:authority:a.example\nconnection:keep-alive\nkeep-alive:5", nil},
		{":method:GET\n:scheme:http\n:path:/\n:authority:a.example\nte:trailers\nx-forwarded-for:1.2.3.4", nil},
		{":method:GET\n:scheme:http\n:path:/\n:authority:a.example\nte:gzip", nil},
		{":method:GET\n:scheme:http\n:path:/\n:authority:a.example\nupgrade:websocket", nil},
		{":method:GET\n:scheme:http\n:path:/\n:authority:a.example\nproxy-authorization:Basic eA==", nil},
		{":method:GET\n:scheme:http\n:path:/\nhost:a.example\nhost:b.example", nil},
		{":method:GET\n:scheme:http\n:path:/\n:authority:a.example\nX-Upper:1", nil},
		{":method:GET\n:scheme:http\n:path:/\n:authority:a.example\nx-crlf:a\r\nContent-Length: 3", nil},
		{"x-first:1\n:method:GET\n:scheme:http\n:path:/\n:authority:a.example", nil},
		{":method:CONNECT\n:authority:a.example:443", nil},
		{":method:GET\n:scheme:http\n:authority:a.example", nil},
		{":method:POST\n:scheme:http\n:path:/big\n:authority:a.example", bytes.Repeat([]byte("x"), 2<<10)},
	} {
		f.Add(s.fields, s.body, uint8(len(s.body)/2))
	}
	up := newRawUpstream(f)
	p := startProxy(f, Config{ReadHeaderTimeout: 2 * time.Second})
	addr := route(f, p, Route{Service: "web", Limits: Limits{MaxBody: 1 << 10, MaxConcurrency: 4, QueueTimeout: time.Second}})
	p.SetTargets("web", []Group{{Revision: 1, Weight: 100, Targets: []Target{{ID: "up", Addr: up.addr}}}}, 0)
	// Each input's request carries X-Fuzz-Seq, so that a forbidden request forwarded late (after
	// its stream ended) is still told apart and blamed on its own input.
	seq, forbidden := 0, map[int]string{}
	f.Fuzz(func(t *testing.T, fields string, body []byte, split uint8) {
		if len(fields) > 4<<10 || len(body) > 8<<10 {
			return
		}
		seq++
		list := append(h2Fields(fields), hpack.HeaderField{Name: "x-fuzz-seq", Value: strconv.Itoa(seq)})
		if why := h2Forbidden(list); why != "" {
			forbidden[seq] = why + " (fields " + strconv.Quote(fields) + ")"
		}
		delete(forbidden, seq-100)
		if err := h2Exchange(addr, list, body, int(split)); err != nil {
			t.Fatalf("fields %q, body %q: %v", fields, body, err)
		}
		if msg := up.problem(); msg != "" {
			t.Fatalf("a request reached the upstream as %s (fields %q or an input before)", msg, fields)
		}
		for n, why := range forbidden {
			if up.sawSeq(strconv.Itoa(n)) {
				t.Fatalf("a request with %s reached the upstream", why)
			}
		}
	})
}

// h2Fields reads FuzzProxyH2's field lines (at most 32).
func h2Fields(s string) []hpack.HeaderField {
	var list []hpack.HeaderField
	for i, line := range strings.Split(s, "\n") {
		if i == 32 {
			break
		}
		name, value, ok := strings.Cut(line[min(1, len(line)):], ":")
		if !ok {
			continue
		}
		list = append(list, hpack.HeaderField{Name: line[:min(1, len(line))] + name, Value: value})
	}
	return list
}

// h2Forbidden names the reason an HTTP/2 request with these fields must never be forwarded,
// or "" when the fields alone give none.
func h2Forbidden(list []hpack.HeaderField) string {
	cls := 0
	for _, f := range list {
		switch name := strings.ToLower(f.Name); name {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
			return "the connection-specific field " + name
		case "te":
			if f.Value != "trailers" && f.Value != "" { // an empty TE names no coding
				return "te: " + f.Value
			}
		case "content-length":
			cls++
		}
	}
	if cls > 1 {
		return "content-length twice"
	}
	return ""
}

// h2Exchange opens an h2c connection to addr, sends one request on stream 1 (its fields, then
// body in DATA frames cut at split), and reads frames until the stream or the connection ends.
// It fails when neither happens within 5 seconds.
func h2Exchange(addr string, list []hpack.HeaderField, body []byte, split int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		return nil // the proxy closed early: an end too
	}
	fr := http2.NewFramer(c, c)
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range list {
		_ = enc.WriteField(f)
	}
	if err := writeH2Request(fr, block.Bytes(), body, split); isTimeout(err) {
		return errors.New("the proxy read nothing of the request for 5s")
	} else if err != nil {
		return nil // closed early: an end too
	}
	for {
		frame, err := fr.ReadFrame()
		if isTimeout(err) {
			return errors.New("the proxy neither ended the stream nor closed within 5s")
		}
		if err != nil {
			return nil // closed, or a frame the server may send and this reader refuses
		}
		if h2StreamEnds(frame) {
			return nil
		}
		if s, ok := frame.(*http2.SettingsFrame); ok && !s.IsAck() {
			_ = fr.WriteSettingsAck()
		}
	}
}

// writeH2Request writes the client's settings, the HEADERS frame and the body's DATA frames.
func writeH2Request(fr *http2.Framer, block, body []byte, split int) error {
	if err := fr.WriteSettings(); err != nil {
		return err
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block,
		EndHeaders: true, EndStream: len(body) == 0}); err != nil {
		return err
	}
	if len(body) == 0 {
		return nil
	}
	split = min(split, len(body))
	if split > 0 {
		if err := fr.WriteData(1, false, body[:split]); err != nil {
			return err
		}
	}
	return fr.WriteData(1, true, body[split:])
}

// h2StreamEnds reports whether frame ends stream 1 or the whole connection.
func h2StreamEnds(frame http2.Frame) bool {
	switch fr := frame.(type) {
	case *http2.GoAwayFrame:
		return true
	case *http2.RSTStreamFrame:
		return fr.StreamID == 1
	case *http2.HeadersFrame:
		return fr.StreamID == 1 && fr.StreamEnded()
	case *http2.DataFrame:
		return fr.StreamID == 1 && fr.StreamEnded()
	}
	return false
}
