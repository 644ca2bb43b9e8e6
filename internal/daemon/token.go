package daemon

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/atomicfile"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/flags/flagapi"
	"github.com/cutover/cutover/internal/notify"
	"github.com/cutover/cutover/internal/store"
)

// apiTokens is the control API's token: the keyring the API, /metrics, OFREP and hooks
// take it from, and the file the CLI reads it from. Rotations are serialised so that the
// file and the keyring always hold the same current token.
type apiTokens struct {
	mu    sync.Mutex
	path  string
	keys  *api.Keyring
	named *auth.Registry // the named tokens with roles, <state>/api-tokens.json
}

// loadAPITokens reads the token at <state>/token, creating it when missing, and the named
// tokens an admin created.
func loadAPITokens(stateDir string) (*apiTokens, error) {
	path := filepath.Join(stateDir, "token")
	tok, err := api.LoadOrCreateToken(path)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	named, err := auth.Open(filepath.Join(stateDir, "api-tokens.json"))
	if err != nil {
		return nil, err
	}
	keys := api.NewKeyring(tok)
	keys.AdmitNamed(named)
	return &apiTokens{path: path, keys: keys, named: named}, nil
}

// apiHandler is the control API with every route behind its token and role checks.
func (d *Daemon) apiHandler() http.Handler {
	return api.NewHandler(d.backend(), "", d.logger.With("component", "api"), api.WithFlags(flagapi.New(d.flags)),
		api.WithConfig(d.backend().Config()), api.WithMigrations(d.mig), api.WithKeyring(d.tokens.keys), api.WithTokenRotation(d),
		api.WithTokens(namedTokens{d.tokens.named, d.events}), api.WithPromotions(d.backend()),
		api.WithRoute("GET /metrics", d.metricsHandler()), api.WithRoute("GET /v1/daemon", d.daemonInfo()),
		api.WithRoute("GET /v1/certificates", d.certificatesHandler()),
		api.WithRoute("GET /v1/services/{name}/series", d.series.Handler(d.sampleEvery())),
		api.WithRoute("GET /v1/notifications", notify.ListHandler(d.store, d.notifyDir, d.backend())),
		api.WithRoute("POST /v1/notifications/test", notify.TestHandler(d.events)),
		api.WithRoute("POST /v1/services/{name}/pause-traffic", d.pauseTrafficHandler(true)),
		api.WithRoute("POST /v1/services/{name}/resume-traffic", d.pauseTrafficHandler(false)),
		api.WithRoute("DELETE /v1/services/{name}", d.removeServiceHandler()))
}

// namedTokens adapts the registry to api.TokenAdmin, recording each change as an event.
type namedTokens struct {
	reg    *auth.Registry
	events eventLog
}

func (n namedTokens) CreateToken(ctx context.Context, name string, role auth.Role, by string) (string, auth.Token, error) {
	secret, t, err := n.reg.Create(name, role, by)
	if err == nil {
		n.events.Record(ctx, "", 0, "token_created", fmt.Sprintf("API token %s (%s) created by %s", name, role, by),
			map[string]any{"name": name, "role": string(role), "by": by})
	}
	return secret, t, err
}

func (n namedTokens) ListTokens(context.Context) []auth.Token { return n.reg.List() }

func (n namedTokens) RevokeToken(ctx context.Context, name, by string) error {
	err := n.reg.Revoke(name)
	if err == nil {
		n.events.Record(ctx, "", 0, "token_revoked", fmt.Sprintf("API token %s revoked by %s", name, by),
			map[string]any{"name": name, "by": by})
	}
	return err
}

// RotateToken writes a new token to the token file (atomically, mode 0600), then makes the
// API admit it, and the replaced token only for grace more. A failed write changes nothing.
func (d *Daemon) RotateToken(ctx context.Context, grace time.Duration) (api.TokenRotation, error) {
	t := d.tokens
	t.mu.Lock()
	defer t.mu.Unlock()
	tok, err := api.NewToken()
	if err != nil {
		return api.TokenRotation{}, fmt.Errorf("rotate token: %w", err)
	}
	if err := atomicfile.Write(t.path, []byte(tok+"\n"), 0o600); err != nil {
		// The host refused the file (full, read-only): a 503, the old token stays.
		return api.TokenRotation{}, fmt.Errorf("rotate token: write %s: %w: %w", t.path, err, api.ErrUnavailable)
	}
	until := t.keys.Rotate(tok, grace)
	d.logger.Info("api token rotated", "previous_valid_until", until.UTC().Format(time.RFC3339))
	d.recordTokenRotation(ctx, until)
	return api.TokenRotation{Token: tok, File: t.path, PreviousValidUntil: until.UTC()}, nil
}

// recordTokenRotation keeps an event for the audit trail; the rotation stands without it.
func (d *Daemon) recordTokenRotation(ctx context.Context, until time.Time) {
	msg := "API token rotated; the previous one is refused from " + until.UTC().Format(time.RFC3339)
	if _, err := d.store.AddEvent(ctx, store.Event{Type: "token_rotated", Message: msg}); err != nil {
		d.logger.Warn("record token rotation", "error", err)
	}
}

// apiTLS loads the API's certificate, when configured.
func apiTLS(opts Options) (*tls.Config, error) {
	conf, err := api.ServerTLS(opts.APITLSCert, opts.APITLSKey)
	if err != nil {
		return nil, fmt.Errorf("api tls: %w", err)
	}
	if err := opts.APILimits.Validate(); err != nil {
		return nil, err
	}
	return conf, nil
}

// serveAPI serves srv on ln, over TLS when srv has a TLS configuration.
func serveAPI(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}

// apiURL is the API's address as clients should use it: host:port, https:// in front when
// it serves TLS (the CLI reads plain host:port as http).
func (d *Daemon) apiURL() string {
	if d.opts.APITLSCert != "" {
		return "https://" + d.Addr()
	}
	return d.Addr()
}
