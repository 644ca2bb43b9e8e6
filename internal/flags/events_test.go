package flags

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sseEvent is one parsed server-sent event (fields as in OFREP's sseEvent schema).
type sseEvent map[string]any

// openEvents connects to the event stream and parses events into a channel until the test ends.
func openEvents(t *testing.T, url string, header map[string]string) (<-chan sseEvent, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	ch := make(chan sseEvent, 16)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		ev := sseEvent{}
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				if len(ev) > 0 {
					ch <- ev
				}
				ev = sseEvent{}
				continue
			}
			if strings.HasPrefix(line, ":") {
				continue
			}
			name, value, _ := strings.Cut(line, ": ")
			if name == "retry" {
				n, _ := strconv.Atoi(value)
				ev[name] = float64(n)
			} else {
				ev[name] = value
			}
		}
	}()
	return ch, resp
}

func nextEvent(t *testing.T, ch <-chan sseEvent, within time.Duration) sseEvent {
	t.Helper()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("event stream ended")
			}
			if _, isRetryOnly := ev["retry"]; isRetryOnly && ev["data"] == nil {
				continue
			}
			return ev
		case <-time.After(within):
			t.Fatalf("no event within %v", within)
		}
	}
}

func TestOFREPEvents(t *testing.T) {
	o := loadOpenAPI(t)
	m, srv := newTestServer(t)
	ch, resp := openEvents(t, srv.URL+EventsPath, map[string]string{"Authorization": "Bearer " + sdkToken})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET events = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The handler subscribes before it sends the headers, so no change can slip by now.
	start := time.Now()
	if err := m.SetEnabled(context.Background(), "ops", "checkout", false); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, ch, time.Second)
	t.Logf("change seen by an SSE client after %v", time.Since(start))
	b, _ := json.Marshal(ev)
	o.mustValidate(t, "sse event", o.component(t, "sseEvent"), b)
	var data sseData
	if err := json.Unmarshal([]byte(ev["data"].(string)), &data); err != nil {
		t.Fatal(err)
	}
	if data.Type != "refetchEvaluation" || data.ETag != m.Snapshot().ETag() || data.LastModified == 0 || ev["event"] != "message" {
		t.Errorf("event = %v, want refetchEvaluation with the current etag", ev)
	}
	// The change itself is visible to an evaluation right away.
	r := post(t, srv, "/ofrep/v1/evaluate/flags/checkout", `{"context":{"targetingKey":"u","email":"a@example.com"}}`, nil)
	checkFields(t, r.body, map[string]any{"reason": "DISABLED"})
}

func TestOFREPEventsAuthAndResume(t *testing.T) {
	_, srv := newTestServer(t)
	_, resp := openEvents(t, srv.URL+EventsPath, nil)
	if resp.StatusCode != 401 {
		t.Errorf("events without a token = %d, want 401", resp.StatusCode)
	}
	// A client that saw an older state (Last-Event-ID) is told to re-fetch at once; the query
	// token serves EventSource clients.
	ch, resp := openEvents(t, srv.URL+EventsPath+"?token="+sdkToken, map[string]string{"Last-Event-ID": "1"})
	if resp.StatusCode != 200 {
		t.Fatalf("events with ?token = %d", resp.StatusCode)
	}
	if ev := nextEvent(t, ch, time.Second); ev["id"] == "1" {
		t.Errorf("resumed stream sent id 1 again: %v", ev)
	}
}

func TestOFREPEventsEndOnDone(t *testing.T) {
	m, _ := newTestServer(t)
	done := make(chan struct{})
	srv := httptest.NewServer(NewOFREPHandler(m, slog.New(slog.DiscardHandler), OFREPOptions{Tokens: testChecker{}, Done: done}))
	t.Cleanup(srv.Close) // after openEvents' cleanup has closed the stream
	ch, _ := openEvents(t, srv.URL+EventsPath, map[string]string{"Authorization": "Bearer " + sdkToken})
	close(done)
	deadline := time.After(2 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return // the stream ended
			}
		case <-deadline:
			t.Fatal("the stream did not end when Done closed")
		}
	}
}

// TestOFREPQueryTokensAndDuplicateHeaders: a token in the event stream's query is checked by
// QueryTokens (nil: refused), so that a daemon can keep its admin token out of URLs; a
// request with two Authorization or two X-API-Key headers has no token.
func TestOFREPQueryTokensAndDuplicateHeaders(t *testing.T) {
	m, _ := newTestServer(t)
	srv := httptest.NewServer(NewOFREPHandler(m, slog.New(slog.DiscardHandler), OFREPOptions{Tokens: testChecker{}}))
	t.Cleanup(srv.Close)
	if _, resp := openEvents(t, srv.URL+EventsPath+"?token="+sdkToken, nil); resp.StatusCode != 401 {
		t.Errorf("events with ?token and no QueryTokens = %d, want 401", resp.StatusCode)
	}
	if _, resp := openEvents(t, srv.URL+EventsPath, map[string]string{"Authorization": "Bearer " + sdkToken}); resp.StatusCode != 200 {
		t.Errorf("events with the token in the header = %d, want 200", resp.StatusCode)
	}
	for name, h := range map[string]http.Header{
		"two authorization": {"Authorization": {"Bearer " + sdkToken, "Bearer nope"}},
		"two api keys":      {"X-Api-Key": {sdkToken, "nope"}},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ofrep/v1/evaluate/flags/static-bool", strings.NewReader(`{"context":{}}`))
		req.Header = h
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("%s: %d, want 401", name, resp.StatusCode)
		}
	}
}
