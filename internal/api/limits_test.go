package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// hostFault is an error marking itself a condition of the host, as store.WriteError does.
type hostFault struct{}

func (hostFault) Error() string {
	return "state file /s/state.db cannot be written: no space left on device"
}
func (hostFault) Unavailable() bool { return true }

// TestUnavailableIs503: an error of the host is answered 503 with its message and a
// Retry-After, and the client's error unwraps to ErrUnavailable.
func TestUnavailableIs503(t *testing.T) {
	h := &handler{logger: slog.New(slog.DiscardHandler)}
	for _, err := range []error{fmt.Errorf("deploy web: %w", hostFault{}), fmt.Errorf("x: %w", ErrUnavailable)} {
		rec := httptest.NewRecorder()
		h.fail(rec, httptest.NewRequest(http.MethodPost, "/v1/services/web/deploy", nil), err)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
			!strings.Contains(rec.Body.String(), err.Error()) {
			t.Errorf("%v: %d %q Retry-After %q; want 503 with the message", err, rec.Code, rec.Body, rec.Header().Get("Retry-After"))
		}
		ce := readError(rec.Result())
		if !errors.Is(ce, ErrUnavailable) || ce.Error() != err.Error() {
			t.Errorf("client error %v: want ErrUnavailable with the message", ce)
		}
	}
}

// TestLimitBody: a declared or streamed body over the limit never reaches a handler's
// decoded request.
func TestLimitBody(t *testing.T) {
	reached := false
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := decodeBody(w, r, &v); err != nil {
			status, _ := errorBody(err)
			w.WriteHeader(status)
			return
		}
		reached = true
	})
	srv := httptest.NewServer(LimitBody(100, next))
	defer srv.Close()
	big := `{"a":"` + strings.Repeat("x", 200) + `"}`
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || reached {
		t.Errorf("declared body of %d: %d, reached %v; want 413 before the handler", len(big), resp.StatusCode, reached)
	}
	resp, err = http.Post(srv.URL, "application/json", struct{ *strings.Reader }{strings.NewReader(big)})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || reached {
		t.Errorf("chunked body of %d: %d, reached %v; want 413", len(big), resp.StatusCode, reached)
	}
}

func TestServerTLSNamesTheFlag(t *testing.T) {
	for _, c := range []struct{ cert, key, want string }{
		{"a.crt", "", "--api-tls-key"}, {"", "a.key", "--api-tls-cert"}, {"/nonexistent.crt", "/nonexistent.key", "--api-tls-cert /nonexistent.crt"},
	} {
		if _, err := ServerTLS(c.cert, c.key); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ServerTLS(%q, %q): %v, want an error naming %s", c.cert, c.key, err, c.want)
		}
	}
	if conf, err := ServerTLS("", ""); conf != nil || err != nil {
		t.Errorf("ServerTLS without files: %v, %v; want nil, nil", conf, err)
	}
	if err := (Limits{MaxBodyBytes: MaxBodyBytes + 1}).Validate(); err == nil || !strings.Contains(err.Error(), "max body") {
		t.Errorf("Validate of a body limit above %d: %v", MaxBodyBytes, err)
	}
}
