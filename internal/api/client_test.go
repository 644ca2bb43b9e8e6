package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/api/apitest"
)

// newServer serves the real handler over b on 127.0.0.1 and returns a client of it.
func newServer(t *testing.T, b api.Backend) *api.Client {
	t.Helper()
	srv := httptest.NewServer(api.NewHandler(b, testToken, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return api.NewClient(srv.URL, testToken)
}

func TestClientRoundTrips(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	dep := api.Deployment{ID: 7, Service: "web", Kind: "deploy", From: 1, To: 2, Strategy: "rolling",
		Status: "running", Phase: "starting", Warnings: []string{"w"}, CreatedAt: at, UpdatedAt: at}
	svc := api.Service{Name: "web", Stable: 1, Weights: map[int]int{1: 100},
		Instances: []api.Instance{{ID: "web-1", Revision: 1, State: "running", Ready: true}}, Deployment: &dep}
	var log []string
	b := &apitest.Backend{
		DeployFunc: func(_ context.Context, req api.DeployRequest) (api.Deployment, error) {
			log = append(log, fmt.Sprintf("deploy %s %s %v %v", req.Service, req.Image, req.Set, req.Env))
			return dep, nil
		},
		RollbackFunc: func(_ context.Context, s string, req api.RollbackRequest) (api.Deployment, error) {
			log = append(log, fmt.Sprintf("rollback %s %d", s, req.To))
			return dep, nil
		},
		ActFunc: func(_ context.Context, s, action string) (api.Deployment, error) {
			log = append(log, "act "+s+" "+action)
			return dep, nil
		},
		CheckSpecFunc: func(_ context.Context, y []byte, file string) (api.CheckResult, error) {
			log = append(log, fmt.Sprintf("check %q %s", y, file))
			return api.CheckResult{Valid: true, Warnings: []string{"no probes"}}, nil
		},
		ServicesFunc: func(context.Context) ([]api.Service, error) { return []api.Service{svc}, nil },
		ServiceFunc:  func(context.Context, string) (api.Service, error) { return svc, nil },
		HistoryFunc: func(context.Context, string) ([]api.Revision, error) {
			return []api.Revision{{Service: "web", Number: 1, Stable: true, CreatedAt: at}}, nil
		},
		DeploymentFunc:  func(context.Context, int64) (api.Deployment, error) { return dep, nil },
		DeploymentsFunc: func(context.Context, string, int) ([]api.Deployment, error) { return []api.Deployment{dep}, nil },
		EventsFunc: func(_ context.Context, q api.EventQuery) ([]api.Event, error) {
			log = append(log, fmt.Sprintf("events %+v", q))
			return []api.Event{{ID: 3, Time: at, Service: "web", DeploymentID: 7, Type: "t", Message: "m"}}, nil
		},
	}
	c := newServer(t, b)
	ctx := t.Context()

	check := func(what string, got, want any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", what, diff)
		}
	}
	d, err := c.Deploy(ctx, api.DeployRequest{Service: "web", Image: "app:2", Set: []string{"a=b,c"}, Env: []string{"K=V"}})
	check("Deploy", d, dep, err)
	d, err = c.Rollback(ctx, "web", api.RollbackRequest{To: 1})
	check("Rollback", d, dep, err)
	for _, act := range []func(context.Context, string) (api.Deployment, error){c.Pause, c.Resume, c.Abort} {
		d, err = act(ctx, "web")
		check("action", d, dep, err)
	}
	d, err = c.Promote(ctx, "web", false)
	check("Promote", d, dep, err)
	d, err = c.Promote(ctx, "web", true)
	check("Promote full", d, dep, err)
	res, err := c.CheckSpec(ctx, []byte("name: web\n"), "web.yaml")
	check("CheckSpec", res, api.CheckResult{Valid: true, Warnings: []string{"no probes"}}, err)
	list, err := c.Services(ctx)
	check("Services", list, []api.Service{svc}, err)
	s, err := c.Service(ctx, "web")
	check("Service", s, svc, err)
	revs, err := c.History(ctx, "web")
	check("History", revs, []api.Revision{{Service: "web", Number: 1, Stable: true, CreatedAt: at}}, err)
	d, err = c.Deployment(ctx, 7)
	check("Deployment", d, dep, err)
	deps, err := c.Deployments(ctx, "web", 5)
	check("Deployments", deps, []api.Deployment{dep}, err)
	evs, err := c.Events(ctx, api.EventQuery{Service: "web", DeploymentID: 7, AfterID: 2, Limit: 9}, time.Second)
	check("Events", evs, []api.Event{{ID: 3, Time: at, Service: "web", DeploymentID: 7, Type: "t", Message: "m"}}, err)
	check("Health", nil, nil, c.Health(ctx))

	wantLog := []string{
		"deploy web app:2 [a=b,c] [K=V]", "rollback web 1", "act web pause", "act web resume", "act web abort",
		"act web promote", "act web promote_full", `check "name: web\n" web.yaml`,
		"events {Service:web DeploymentID:7 AfterID:2 Limit:9}",
	}
	if diff := cmp.Diff(log, wantLog); diff != "" {
		t.Errorf("backend calls (-got +want):\n%s", diff)
	}
}

func TestClientErrors(t *testing.T) {
	fields := []api.FieldError{{Path: "replicas", Message: "must be at least 1"}}
	tests := []struct {
		name      string
		err       error
		sentinel  error
		wantText  string
		wantField bool
	}{
		{"not found", fmt.Errorf("service api: %w", api.ErrNotFound), api.ErrNotFound, "service api: not found", false},
		{"conflict", api.ErrConflict, api.ErrConflict, "conflict", false},
		{"invalid", api.ErrInvalid, api.ErrInvalid, "invalid input", false},
		{"validation", &api.ValidationError{File: "w.yaml", Fields: fields}, api.ErrInvalid,
			"invalid spec w.yaml\n  replicas: must be at least 1", true},
		{"internal", errors.New("secret detail"), nil, "internal error", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newServer(t, &apitest.Backend{ServiceFunc: func(context.Context, string) (api.Service, error) {
				return api.Service{}, tt.err
			}})
			_, err := c.Service(t.Context(), "api")
			var apiErr *api.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T), want *api.Error", err, err)
			}
			if err.Error() != tt.wantText {
				t.Errorf("error text %q, want %q", err.Error(), tt.wantText)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
			var ve *api.ValidationError
			if got := errors.As(err, &ve); got != tt.wantField {
				t.Errorf("errors.As ValidationError = %v, want %v", got, tt.wantField)
			} else if got && !cmp.Equal(ve.Fields, fields) {
				t.Errorf("fields %v, want %v", ve.Fields, fields)
			}
		})
	}
}

func TestClientUnauthorizedAndUnreachable(t *testing.T) {
	srv := httptest.NewServer(api.NewHandler(servicesBackend(), testToken, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	_, err := api.NewClient(srv.URL, "wrong").Services(t.Context())
	if !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("wrong token: %v, want ErrUnauthorized", err)
	}
	if err := api.NewClient(strings.TrimPrefix(srv.URL, "http://"), "wrong").Health(t.Context()); err != nil {
		t.Errorf("health over a bare host:port: %v", err)
	}
	srv.Close()
	_, err = api.NewClient(srv.URL, testToken).Services(t.Context())
	if err == nil || !strings.Contains(err.Error(), "reach cutover daemon at "+srv.URL) {
		t.Errorf("closed server: %v, want it to say the daemon is unreachable", err)
	}
}

// signalWriter reports the first write on got.
type signalWriter struct {
	got chan string
}

func (w *signalWriter) Write(p []byte) (int, error) {
	select {
	case w.got <- string(p):
	default:
	}
	return len(p), nil
}

func TestClientLogsStreams(t *testing.T) {
	b := &apitest.Backend{LogsFunc: func(ctx context.Context, _ string, rev int, follow bool, w io.Writer) error {
		fmt.Fprintf(w, "rev=%d follow=%v\n", rev, follow)
		<-ctx.Done() // a follower streams until the client leaves
		return ctx.Err()
	}}
	c := newServer(t, b)
	ctx, cancel := context.WithCancel(t.Context())
	w := &signalWriter{got: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- c.Logs(ctx, "web", 3, true, w) }()
	select {
	case line := <-w.got:
		if line != "rev=3 follow=true\n" {
			t.Errorf("first log bytes %q", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no log line arrived while the stream was open: not flushed")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Logs after cancel: %v, want nil", err)
	}
}
