package flags

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	sdkToken       = "sdk-secret"
	forbiddenToken = "admin-only"
	singlePath     = "/ofrep/v1/evaluate/flags/{key}"
	bulkPath       = "/ofrep/v1/evaluate/flags"
)

// testChecker accepts sdkToken and forbids forbiddenToken.
type testChecker struct{}

func (testChecker) CheckToken(_ context.Context, tok string) error {
	switch tok {
	case sdkToken:
		return nil
	case forbiddenToken:
		return ErrForbidden
	}
	return errors.New("unknown token")
}

// testFlags is the flag set the OFREP tests serve.
func testFlags() ([]Segment, []Flag) {
	onOff := map[string]any{"on": true, "off": false}
	segs := []Segment{{Name: "internal", Conditions: []Condition{{Attribute: "email", Op: OpEndsWith, Value: "@example.com"}}}}
	flags := []Flag{
		{Key: "static-bool", Type: Boolean, Variants: onOff, DefaultVariant: "on", Enabled: true},
		{Key: "checkout", Type: Boolean, Variants: onOff, DefaultVariant: "off", Enabled: true, Rules: []Rule{
			{Name: "staff", Segments: []string{"internal"}, Variant: "on"},
			{Name: "beta", Conditions: []Condition{{Attribute: "plan", Op: OpEquals, Value: "beta"}},
				Split: []Weight{{"on", 50}, {"off", 50}}},
		}},
		{Key: "theme", Type: String, Variants: map[string]any{"dark": "dark", "light": "light"}, DefaultVariant: "light"},
		{Key: "retries", Type: Number, Variants: map[string]any{"few": 3.0, "many": 10.0}, DefaultVariant: "few", Enabled: true},
		{Key: "ratio", Type: Number, Variants: map[string]any{"quarter": 0.25}, DefaultVariant: "quarter", Enabled: true},
		{Key: "banner", Type: Object, Variants: map[string]any{"blue": map[string]any{"color": "blue", "size": 3.0}}, DefaultVariant: "blue", Enabled: true},
	}
	return segs, flags
}

// newTestServer serves testFlags over OFREP, plus "broken", a stored flag whose variant has
// the wrong type (as if the store had been edited by hand), which evaluates to an error.
func newTestServer(t *testing.T) (*Manager, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	store := &MemStore{}
	broken, _ := json.Marshal(Flag{Key: "broken", Type: Boolean, Variants: map[string]any{"x": "not a bool"}, DefaultVariant: "x", Enabled: true})
	if err := store.ApplyFlagChanges(ctx, []Record{{Kind: KindFlag, Key: "broken", After: broken}}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	m := NewManager(store, logger, ManagerOptions{})
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	segs, flags := testFlags()
	for _, s := range segs {
		if err := m.PutSegment(ctx, "test", s); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range flags {
		if err := m.PutFlag(ctx, "test", f); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(NewOFREPHandler(m, logger, OFREPOptions{Tokens: testChecker{}, QueryTokens: testChecker{}, Heartbeat: 50 * time.Millisecond}))
	t.Cleanup(srv.Close)
	return m, srv
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func post(t *testing.T, srv *httptest.Server, path, body string, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+sdkToken)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func TestOFREPSingle(t *testing.T) {
	o := loadOpenAPI(t)
	_, srv := newTestServer(t)
	cases := []struct {
		name, key, body string
		status          int
		want            map[string]any // fields the answer must have
	}{
		{"static", "static-bool", `{"context":{"targetingKey":"u1"}}`, 200, map[string]any{"value": true, "reason": "STATIC", "variant": "on"}},
		{"segment match", "checkout", `{"context":{"targetingKey":"u1","email":"ann@example.com"}}`, 200,
			map[string]any{"value": true, "reason": "TARGETING_MATCH", "variant": "on"}},
		{"split", "checkout", `{"context":{"targetingKey":"user-1","plan":"beta"}}`, 200, map[string]any{"reason": "SPLIT"}},
		{"fall-through", "checkout", `{"context":{"targetingKey":"u1"}}`, 200, map[string]any{"value": false, "reason": "UNKNOWN", "variant": "off"}},
		{"no context (accepted, outside the schema)", "checkout", `{}`, 200, map[string]any{"value": false}},
		{"disabled", "theme", `{"context":{"targetingKey":"u1"}}`, 200, map[string]any{"value": "light", "reason": "DISABLED"}},
		{"integer", "retries", `{"context":{"targetingKey":"u1"}}`, 200, map[string]any{"value": 3.0}},
		{"float", "ratio", `{"context":{"targetingKey":"u1"}}`, 200, map[string]any{"value": 0.25}},
		{"object", "banner", `{"context":{"targetingKey":"u1"}}`, 200, map[string]any{"variant": "blue"}},
		{"not found", "nope", `{"context":{}}`, 404, map[string]any{"key": "nope", "errorCode": "FLAG_NOT_FOUND"}},
		{"targeting key missing", "checkout", `{"context":{"plan":"beta"}}`, 400,
			map[string]any{"key": "checkout", "errorCode": "TARGETING_KEY_MISSING"}},
		{"malformed JSON", "checkout", `{"context":`, 400, map[string]any{"errorCode": "PARSE_ERROR"}},
		{"not an object", "checkout", `[1,2]`, 400, map[string]any{"errorCode": "PARSE_ERROR"}},
		{"context not an object", "checkout", `{"context":"x"}`, 400, map[string]any{"errorCode": "INVALID_CONTEXT"}},
		{"targeting key not a string", "checkout", `{"context":{"targetingKey":7}}`, 400, map[string]any{"errorCode": "INVALID_CONTEXT"}},
		{"broken flag", "broken", `{"context":{}}`, 400, map[string]any{"errorCode": "GENERAL"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := post(t, srv, "/ofrep/v1/evaluate/flags/"+c.key, c.body, nil)
			if r.status != c.status {
				t.Fatalf("status = %d, want %d; body %s", r.status, c.status, r.body)
			}
			o.mustValidate(t, c.name, o.responseSchema(t, singlePath, c.status), r.body)
			checkFields(t, r.body, c.want)
			if c.status == 200 && !strings.Contains(c.name, "outside the schema") {
				o.mustValidate(t, c.name+" request", o.component(t, "evaluationRequest"), []byte(c.body))
			}
		})
	}
}

func checkFields(t *testing.T, body []byte, want map[string]any) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !jsonEqual(g, w) {
			t.Errorf("%s = %v, want %v (body %s)", k, g, w, body)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestOFREPAuth(t *testing.T) {
	_, srv := newTestServer(t)
	cases := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"bearer", nil, 200},
		{"api key", map[string]string{"Authorization": "", "X-API-Key": sdkToken}, 200},
		{"missing", map[string]string{"Authorization": ""}, 401},
		{"wrong", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"wrong scheme", map[string]string{"Authorization": "Basic " + sdkToken}, 401},
		{"forbidden", map[string]string{"Authorization": "Bearer " + forbiddenToken}, 403},
	}
	for _, c := range cases {
		for _, path := range []string{"/ofrep/v1/evaluate/flags/static-bool", bulkPath} {
			if r := post(t, srv, path, `{"context":{}}`, c.header); r.status != c.status {
				t.Errorf("%s: POST %s = %d, want %d", c.name, path, r.status, c.status)
			}
		}
	}
}

func TestOFREPBulk(t *testing.T) {
	o := loadOpenAPI(t)
	m, srv := newTestServer(t)
	body := `{"context":{"targetingKey":"user-1","email":"ann@example.com"}}`
	o.mustValidate(t, "bulk request", o.component(t, "bulkEvaluationRequest"), []byte(body))
	r := post(t, srv, bulkPath, body, nil)
	if r.status != 200 {
		t.Fatalf("bulk status = %d: %s", r.status, r.body)
	}
	o.mustValidate(t, "bulk 200", o.responseSchema(t, bulkPath, 200), r.body)
	var got struct {
		Flags        []map[string]any `json:"flags"`
		EventStreams []map[string]any `json:"eventStreams"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Flags) != 7 || got.Flags[0]["key"] != "banner" || got.Flags[1]["errorCode"] != "GENERAL" {
		t.Errorf("bulk flags = %v, want 7 in key order with broken as GENERAL", got.Flags)
	}
	if len(got.EventStreams) != 1 || !jsonEqual(got.EventStreams[0]["endpoint"], map[string]any{"requestUri": EventsPath}) {
		t.Errorf("eventStreams = %v", got.EventStreams)
	}
	etag := r.header.Get("ETag")
	if etag == "" {
		t.Fatal("bulk 200 has no ETag")
	}

	r = post(t, srv, bulkPath, body, map[string]string{"If-None-Match": etag})
	if r.status != 304 || len(r.body) != 0 || r.header.Get("ETag") != etag {
		t.Errorf("If-None-Match current = %d, body %q, ETag %q; want 304, empty, %s", r.status, r.body, r.header.Get("ETag"), etag)
	}
	if o.responseSchema(t, bulkPath, 304) != nil {
		t.Error("the spec gives 304 a body; the test expects none")
	}
	// Another context gets another answer, so the same tag must not match.
	if r = post(t, srv, bulkPath, `{"context":{"targetingKey":"u2"}}`, map[string]string{"If-None-Match": etag}); r.status != 200 {
		t.Errorf("If-None-Match for another context = %d, want 200", r.status)
	}
	if err := m.SetEnabled(context.Background(), "test", "theme", true); err != nil {
		t.Fatal(err)
	}
	r = post(t, srv, bulkPath, body, map[string]string{"If-None-Match": etag})
	if r.status != 200 || r.header.Get("ETag") == etag {
		t.Errorf("after a change: %d with ETag %s, want 200 and a new ETag", r.status, r.header.Get("ETag"))
	}
	// A split without a targeting key fails for that flag only.
	r = post(t, srv, bulkPath, `{"context":{"plan":"beta"}}`, nil)
	o.mustValidate(t, "bulk with a failure", o.responseSchema(t, bulkPath, 200), r.body)
	if !strings.Contains(string(r.body), `"key":"checkout","errorCode":"TARGETING_KEY_MISSING"`) {
		t.Errorf("bulk without targeting key: %s", r.body)
	}
}

func TestOFREPBulkErrors(t *testing.T) {
	o := loadOpenAPI(t)
	_, srv := newTestServer(t)
	for body, code := range map[string]string{
		`{"context":`:                    "PARSE_ERROR",
		``:                               "PARSE_ERROR",
		`{"context":[1]}`:                "INVALID_CONTEXT",
		`{"context":{"targetingKey":1}}`: "INVALID_CONTEXT",
	} {
		r := post(t, srv, bulkPath, body, nil)
		if r.status != 400 {
			t.Errorf("bulk %q = %d, want 400", body, r.status)
			continue
		}
		o.mustValidate(t, "bulk 400", o.responseSchema(t, bulkPath, 400), r.body)
		checkFields(t, r.body, map[string]any{"errorCode": code})
	}
}
