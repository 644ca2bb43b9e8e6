package dashboard

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/seal"
)

// firehose is a Source with an endless supply of new 2 KiB events: whatever a stream has
// read, 200 more are there. It counts the bytes it hands out.
type firehose struct{ served atomic.Int64 }

func (f *firehose) Services(context.Context) ([]api.Service, error) { return nil, nil }

func (f *firehose) Events(_ context.Context, q api.EventQuery) ([]api.Event, error) {
	if q.Limit >= 1000 { // startID looking for the newest: there is none yet
		return nil, nil
	}
	out := make([]api.Event, q.Limit)
	msg := strings.Repeat("m", 2048)
	for i := range out {
		out[i] = api.Event{ID: q.AfterID + int64(i) + 1, Time: time.Now(), Service: "web", Type: "deployment_progress", Message: msg}
	}
	f.served.Add(int64(len(out) * len(msg)))
	return out, nil
}

// TestStalledStreamIsDroppedAndHoldsLittle: a client that opens the event stream and never
// reads while events pour in costs the daemon its socket buffers and one handler, not a
// growing queue: the heap does not grow with what was produced, and the handler ends once a
// write has waited WriteTimeout (without it, the handler would wait for ever).
func TestStalledStreamIsDroppedAndHoldsLittle(t *testing.T) {
	key, err := seal.NewKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	src := &firehose{}
	d := New(Config{API: http.NotFoundHandler(), Check: func(tok string) bool { return tok == "tok" }, Source: src, Sealer: key,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), EventPoll: time.Millisecond, WriteTimeout: 500 * time.Millisecond})
	srv := httptest.NewServer(d)
	defer srv.Close()
	cookie := login(t, srv.URL)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	conn := openStalled(t, srv.Listener.Addr().String(), cookie)
	defer conn.Close()
	deadline := time.Now().Add(60 * time.Second)
	for d.Streams() != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	for d.Streams() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := d.Streams(); n != 0 {
		t.Fatalf("a stream nobody reads is still open after 60s (%d open)", n)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("produced %d KiB of events for a client that never read; heap in use grew %d KiB", src.served.Load()>>10, grown>>10)
	if grown > 16<<20 {
		t.Errorf("heap in use grew %d MiB with a stalled stream", grown>>20)
	}
}

// login returns the session cookie for token "tok".
func login(t *testing.T, base string) *http.Cookie {
	t.Helper()
	resp, err := http.Post(base+"/ui/login", "application/json", strings.NewReader(`{"token":"tok"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	t.Fatalf("login: %s, no session cookie", resp.Status)
	return nil
}

// openStalled asks for the event stream on a connection with a small receive buffer, reads
// the answer's headers and then nothing more.
func openStalled(t *testing.T, addr string, cookie *http.Cookie) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /ui/stream HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\n\r\n", addr, cookie.Name, cookie.Value)
	line, err := bufio.NewReaderSize(conn, 64).ReadString('\n')
	if err != nil || !strings.Contains(line, "200") {
		t.Fatalf("stream answer %q (%v)", line, err)
	}
	return conn
}
