package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/api/apitest"
)

const testToken = "s3cret-token"

// serve runs one request through a handler over b and returns the recorded answer.
func serve(t *testing.T, b api.Backend, logger *slog.Logger, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rec := httptest.NewRecorder()
	api.NewHandler(b, testToken, logger).ServeHTTP(rec, req)
	return rec
}

// authed returns a request bearing the right token.
func authed(method, target string, body io.Reader) *http.Request {
	req := httptest.NewRequest(method, target, body)
	req.Header.Set("Authorization", "Bearer "+testToken)
	return req
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
	return v
}

func servicesBackend() *apitest.Backend {
	return &apitest.Backend{ServicesFunc: func(context.Context) ([]api.Service, error) {
		return []api.Service{{Name: "web"}}, nil
	}}
}

func TestAuth(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		header string
		want   int
	}{
		{"healthz open", "/healthz", "", http.StatusOK},
		{"no header", "/v1/services", "", http.StatusUnauthorized},
		{"wrong token", "/v1/services", "Bearer nope", http.StatusUnauthorized},
		{"token prefix", "/v1/services", "Bearer " + testToken[:5], http.StatusUnauthorized},
		{"wrong scheme", "/v1/services", "Basic " + testToken, http.StatusUnauthorized},
		{"no scheme", "/v1/services", testToken, http.StatusUnauthorized},
		{"unknown route without token", "/v1/nothing", "", http.StatusUnauthorized},
		{"right token", "/v1/services", "Bearer " + testToken, http.StatusOK},
		{"scheme case", "/v1/services", "bearer " + testToken, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tt.path, nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			rec := serve(t, servicesBackend(), nil, req)
			if rec.Code != tt.want {
				t.Fatalf("GET %s with %q: status %d, want %d", tt.path, tt.header, rec.Code, tt.want)
			}
			if tt.want != http.StatusUnauthorized {
				return
			}
			if got := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want Bearer", got)
			}
			if got := strings.TrimSpace(rec.Body.String()); got != `{"error":"unauthorized"}` {
				t.Errorf("body = %s", got)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	rec := serve(t, &apitest.Backend{}, nil, httptest.NewRequest("GET", "/healthz", nil))
	if got := strings.TrimSpace(rec.Body.String()); got != `{"ok":true}` {
		t.Errorf("GET /healthz = %d %s", rec.Code, got)
	}
}

func TestEmptyTokenRefusesAll(t *testing.T) {
	req := httptest.NewRequest("GET", "/v1/services", nil)
	req.Header.Set("Authorization", "Bearer ")
	rec := httptest.NewRecorder()
	api.NewHandler(servicesBackend(), "", slog.New(slog.DiscardHandler)).ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("empty server token, empty bearer: status %d, want 401", rec.Code)
	}
}

func TestErrorMapping(t *testing.T) {
	fields := []api.FieldError{{Path: "run.command", Line: 3, Message: "required"}}
	tests := []struct {
		name string
		err  error
		want int
		body api.ErrorBody
	}{
		{"not found", fmt.Errorf("service web: %w", api.ErrNotFound), 404,
			api.ErrorBody{Error: "service web: not found"}},
		{"conflict", fmt.Errorf("deploy web: deployment 7 active: %w", api.ErrConflict), 409,
			api.ErrorBody{Error: "deploy web: deployment 7 active: conflict"}},
		{"invalid", fmt.Errorf("deploy web: bad --set: %w", api.ErrInvalid), 400,
			api.ErrorBody{Error: "deploy web: bad --set: invalid input"}},
		{"validation", fmt.Errorf("deploy web: %w", &api.ValidationError{File: "web.yaml", Fields: fields}), 400,
			api.ErrorBody{Error: "deploy web: invalid spec web.yaml", Fields: fields}},
		{"other", errors.New("disk on fire"), 500, api.ErrorBody{Error: "internal error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			b := &apitest.Backend{ServiceFunc: func(context.Context, string) (api.Service, error) {
				return api.Service{}, tt.err
			}}
			rec := serve(t, b, logger, authed("GET", "/v1/services/web", nil))
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d", rec.Code, tt.want)
			}
			if diff := cmp.Diff(decode[api.ErrorBody](t, rec), tt.body); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
			logged := strings.Contains(logs.String(), "disk on fire")
			if logged != (tt.want == 500) {
				t.Errorf("detail logged = %v for status %d; log: %s", logged, tt.want, logs.String())
			}
		})
	}
}

func TestDeployBody(t *testing.T) {
	var got api.DeployRequest
	b := &apitest.Backend{DeployFunc: func(_ context.Context, req api.DeployRequest) (api.Deployment, error) {
		got = req
		return api.Deployment{ID: 7, Service: req.Service}, nil
	}}
	tests := []struct {
		name     string
		body     string
		want     int
		wantText string
	}{
		{"name from path", `{"image":"app:2"}`, 201, ""},
		{"name matches", `{"service":"web","image":"app:2"}`, 201, ""},
		{"empty body", ``, 201, ""},
		{"name differs", `{"service":"api"}`, 400, `body names service "api"`},
		{"unknown field", `{"imag":"app:2"}`, 400, `unknown field "imag"`},
		{"not json", `image: app`, 400, "decode request body"},
		{"trailing data", `{} {}`, 400, "data after"},
		{"too large", `{"message":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, 413, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = api.DeployRequest{}
			rec := serve(t, b, nil, authed("POST", "/v1/services/web/deploy", strings.NewReader(tt.body)))
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			if tt.want != 201 {
				if e := decode[api.ErrorBody](t, rec); !strings.Contains(e.Error, tt.wantText) {
					t.Errorf("error %q, want it to contain %q", e.Error, tt.wantText)
				}
				return
			}
			if got.Service != "web" {
				t.Errorf("backend got service %q, want web", got.Service)
			}
			if d := decode[api.Deployment](t, rec); d.ID != 7 {
				t.Errorf("deployment id %d, want 7", d.ID)
			}
		})
	}
}

func TestSpecCheckBody(t *testing.T) {
	var gotYAML, gotFile string
	b := &apitest.Backend{CheckSpecFunc: func(_ context.Context, y []byte, file string) (api.CheckResult, error) {
		gotYAML, gotFile = string(y), file
		return api.CheckResult{Valid: true}, nil
	}}
	rec := serve(t, b, nil, authed("POST", "/v1/spec/check?file=web.yaml", strings.NewReader("name: web\n")))
	if rec.Code != 200 || gotYAML != "name: web\n" || gotFile != "web.yaml" {
		t.Errorf("check: status %d, backend got %q from %q", rec.Code, gotYAML, gotFile)
	}
	big := strings.NewReader(strings.Repeat("#", api.MaxBodyBytes+1))
	if rec := serve(t, b, nil, authed("POST", "/v1/spec/check", big)); rec.Code != 413 {
		t.Errorf("oversized spec: status %d, want 413", rec.Code)
	}
}

func TestActions(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/v1/services/web/pause", "pause"},
		{"/v1/services/web/resume", "resume"},
		{"/v1/services/web/abort", "abort"},
		{"/v1/services/web/promote", "promote"},
		{"/v1/services/web/promote?full=1", "promote_full"},
		{"/v1/services/web/promote?full=false", "promote"},
	}
	for _, tt := range tests {
		var got string
		b := &apitest.Backend{ActFunc: func(_ context.Context, service, action string) (api.Deployment, error) {
			got = service + " " + action
			return api.Deployment{}, nil
		}}
		rec := serve(t, b, nil, authed("POST", tt.path, nil))
		if rec.Code != 200 || got != "web "+tt.want {
			t.Errorf("POST %s: status %d, backend got %q, want %q", tt.path, rec.Code, got, "web "+tt.want)
		}
	}
	b := &apitest.Backend{ActFunc: func(context.Context, string, string) (api.Deployment, error) {
		return api.Deployment{}, nil
	}}
	if rec := serve(t, b, nil, authed("POST", "/v1/services/web/explode", nil)); rec.Code != 404 {
		t.Errorf("unknown action: status %d, want 404", rec.Code)
	}
	if rec := serve(t, b, nil, authed("POST", "/v1/services/web/promote?full=maybe", nil)); rec.Code != 400 {
		t.Errorf("full=maybe: status %d, want 400", rec.Code)
	}
}

func TestQueryParsing(t *testing.T) {
	var gotLimit int
	var gotID int64
	b := &apitest.Backend{
		DeploymentsFunc: func(_ context.Context, _ string, limit int) ([]api.Deployment, error) {
			gotLimit = limit
			return nil, nil
		},
		DeploymentFunc: func(_ context.Context, id int64) (api.Deployment, error) {
			gotID = id
			return api.Deployment{ID: id}, nil
		},
	}
	rec := serve(t, b, nil, authed("GET", "/v1/services/web/deployments?limit=3", nil))
	if rec.Code != 200 || gotLimit != 3 || strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Errorf("deployments?limit=3: %d %s, backend limit %d", rec.Code, rec.Body, gotLimit)
	}
	if rec := serve(t, b, nil, authed("GET", "/v1/deployments/42", nil)); rec.Code != 200 || gotID != 42 {
		t.Errorf("deployments/42: status %d, backend id %d", rec.Code, gotID)
	}
	for _, target := range []string{
		"/v1/services/web/deployments?limit=x", "/v1/deployments/abc", "/v1/events?after=-1",
		"/v1/events?wait=soon", "/v1/services/web/logs?revision=r2",
	} {
		if rec := serve(t, b, nil, authed("GET", target, nil)); rec.Code != 400 {
			t.Errorf("GET %s: status %d, want 400", target, rec.Code)
		}
	}
}

func TestLogs(t *testing.T) {
	b := &apitest.Backend{LogsFunc: func(_ context.Context, service string, rev int, follow bool, w io.Writer) error {
		if service != "web" {
			return fmt.Errorf("logs of %s: %w", service, api.ErrNotFound)
		}
		fmt.Fprintf(w, "rev=%d follow=%v\n", rev, follow)
		return nil
	}}
	rec := serve(t, b, nil, authed("GET", "/v1/services/web/logs?revision=2&follow=1", nil))
	if rec.Code != 200 || rec.Body.String() != "rev=2 follow=true\n" || !rec.Flushed {
		t.Errorf("logs: %d %q flushed=%v", rec.Code, rec.Body, rec.Flushed)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("logs Content-Type %q", ct)
	}
	if rec := serve(t, b, nil, authed("GET", "/v1/services/api/logs", nil)); rec.Code != 404 {
		t.Errorf("logs of unknown service: status %d, want 404", rec.Code)
	}
}
