package api_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/api/apitest"
	"github.com/cutover/cutover/internal/flags"
)

// flagsStub is a FlagsBackend that records what it was asked. Unused methods panic through
// the nil embedded interface, which fails the test.
type flagsStub struct {
	api.FlagsBackend
	calls []string
}

func (s *flagsStub) PutFlag(_ context.Context, who string, f flags.Flag) (api.FlagStatus, error) {
	s.calls = append(s.calls, fmt.Sprintf("PutFlag %s %s %s", who, f.Key, f.Type))
	return api.FlagStatus{Flag: f}, nil
}

func (s *flagsStub) PutFlagYAML(_ context.Context, who, key string, yaml []byte, file string) (api.FlagStatus, error) {
	s.calls = append(s.calls, fmt.Sprintf("PutFlagYAML %s %s %q %s", who, key, yaml, file))
	return api.FlagStatus{}, &api.ValidationError{File: file, Fields: []api.FieldError{{Path: "colour", Line: 4, Column: 1, Message: "unknown field"}}}
}

func (s *flagsStub) SetFlagEnabled(_ context.Context, who, key string, enabled bool) (api.FlagStatus, error) {
	s.calls = append(s.calls, fmt.Sprintf("SetFlagEnabled %s %s %t", who, key, enabled))
	return api.FlagStatus{}, fmt.Errorf("flag %s: %w", key, api.ErrNotFound)
}

func (s *flagsStub) ImportFlags(_ context.Context, who string, yaml []byte, file string, o flags.ImportOptions) (flags.ImportResult, error) {
	s.calls = append(s.calls, fmt.Sprintf("ImportFlags %s %q %s prune=%t dry=%t", who, yaml, file, o.Prune, o.DryRun))
	return flags.ImportResult{}, nil
}

// TestFlagRoutes checks the routes' decoding and error mapping through the real client.
func TestFlagRoutes(t *testing.T) {
	stub := &flagsStub{}
	srv := httptest.NewServer(api.NewHandler(&apitest.Backend{}, testToken, slog.New(slog.DiscardHandler), api.WithFlags(stub)))
	defer srv.Close()
	c := api.NewClient(srv.URL, testToken)
	ctx := context.Background()

	if _, err := c.PutFlag(ctx, "ann", flags.Flag{Key: "f", Type: flags.Boolean}); err != nil {
		t.Errorf("PutFlag: %v", err)
	}
	_, err := c.PutFlagYAML(ctx, "ann", "f", []byte("colour: blue\n"), "f.yaml")
	var ve *api.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Line != 4 {
		t.Errorf("PutFlagYAML: %v, want the validation error with its line", err)
	}
	if _, err := c.SetFlagEnabled(ctx, "bob", "g", false); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("SetFlagEnabled of an unknown flag: %v, want not found", err)
	}
	if _, err := c.ImportFlags(ctx, "cid", []byte("flags: []\n"), "x.yaml", flags.ImportOptions{Prune: true, DryRun: true}); err != nil {
		t.Errorf("ImportFlags: %v", err)
	}
	// The author is the token's name, not the who the client sent.
	want := []string{
		"PutFlag admin f boolean",
		`PutFlagYAML admin f "colour: blue\n" f.yaml`,
		"SetFlagEnabled admin g false",
		`ImportFlags admin "flags: []\n" x.yaml prune=true dry=true`,
	}
	if diff := cmp.Diff(stub.calls, want); diff != "" {
		t.Errorf("calls (-got +want):\n%s", diff)
	}

	req := authed(http.MethodPut, "/v1/flags/f", strings.NewReader(`{"key":"other","type":"boolean"}`))
	if rec := serve(t, &apitest.Backend{}, nil, req); rec.Code != http.StatusNotFound {
		t.Errorf("flag route without WithFlags: status %d, want 404", rec.Code)
	}
	rec := httptest.NewRecorder()
	req = authed(http.MethodPut, "/v1/flags/f", strings.NewReader(`{"key":"other","type":"boolean"}`))
	api.NewHandler(&apitest.Backend{}, testToken, slog.New(slog.DiscardHandler), api.WithFlags(stub)).ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "other") {
		t.Errorf("PUT with a body for another key: %d %s, want 400 naming it", rec.Code, rec.Body)
	}
}
