package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/cutover/cutover/internal/auth"
)

// TokenAdmin manages the named API tokens (auth.Registry, with the daemon's audit events).
// Create returns the token itself, once; errors wrap auth.ErrInvalid, ErrExists or ErrNotFound.
type TokenAdmin interface {
	CreateToken(ctx context.Context, name string, role auth.Role, by string) (string, auth.Token, error)
	ListTokens(ctx context.Context) []auth.Token
	RevokeToken(ctx context.Context, name, by string) error
}

// CreateTokenRequest is the body of POST /v1/tokens.
type CreateTokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// APIToken is a named API token as the API shows it: its token only in the answer to its
// creation, never its hash.
type APIToken struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Token     string    `json:"token,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// WithTokens serves the named token routes (/v1/tokens) through t.
func WithTokens(t TokenAdmin) Option {
	return func(h *handler) { h.tokens = t }
}

// WithRoute serves h at pattern behind the same token and role checks as every route
// (RoleFor(pattern)): the daemon's metrics and information.
func WithRoute(pattern string, h http.Handler) Option {
	return func(hd *handler) { hd.extra = append(hd.extra, extraRoute{pattern, h}) }
}

type extraRoute struct {
	pattern string
	h       http.Handler
}

func (h *handler) namedTokenRoutes(mux *routeMux) {
	if h.tokens == nil {
		return
	}
	mux.HandleFunc("POST /v1/tokens", h.createToken)
	mux.HandleFunc("GET /v1/tokens", h.listTokens)
	mux.HandleFunc("DELETE /v1/tokens/{name}", h.revokeToken)
}

func (h *handler) createToken(w http.ResponseWriter, r *http.Request) {
	var req CreateTokenRequest
	if err := decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	secret, t, err := h.tokens.CreateToken(r.Context(), req.Name, auth.Role(req.Role), Identity(r.Context()))
	w.Header().Set("Cache-Control", "no-store")
	out := toAPIToken(t)
	out.Token = secret
	h.reply(w, r, http.StatusCreated, out, tokenError(err))
}

func (h *handler) listTokens(w http.ResponseWriter, r *http.Request) {
	list := h.tokens.ListTokens(r.Context())
	out := make([]APIToken, 0, len(list))
	for _, t := range list {
		out = append(out, toAPIToken(t))
	}
	h.reply(w, r, http.StatusOK, out, nil)
}

func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request) {
	err := h.tokens.RevokeToken(r.Context(), r.PathValue("name"), Identity(r.Context()))
	h.reply(w, r, http.StatusOK, map[string]string{"revoked": r.PathValue("name")}, tokenError(err))
}

// tokenError maps the registry's errors to the API's.
func tokenError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, auth.ErrInvalid):
		return fmt.Errorf("%w: %w", err, ErrInvalid)
	case errors.Is(err, auth.ErrExists):
		return fmt.Errorf("%w: %w", err, ErrConflict)
	case errors.Is(err, auth.ErrNotFound):
		return fmt.Errorf("%w: %w", err, ErrNotFound)
	}
	return err
}

func toAPIToken(t auth.Token) APIToken {
	return APIToken{Name: t.Name, Role: string(t.Role), CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy}
}

// CreateToken asks for a new named token with role; the answer holds the token, once.
func (c *Client) CreateToken(ctx context.Context, name, role string) (APIToken, error) {
	var t APIToken
	err := c.call(ctx, http.MethodPost, "/v1/tokens", nil, CreateTokenRequest{Name: name, Role: role}, &t)
	return t, err
}

// Tokens lists the named tokens.
func (c *Client) Tokens(ctx context.Context) ([]APIToken, error) {
	var list []APIToken
	err := c.call(ctx, http.MethodGet, "/v1/tokens", nil, nil, &list)
	return list, err
}

// RevokeToken revokes the named token: it is refused from then on.
func (c *Client) RevokeToken(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodDelete, "/v1/tokens/"+url.PathEscape(name), nil, nil, nil)
}

// Approve approves the service's deployment that awaits approval.
func (c *Client) Approve(ctx context.Context, service string) (Deployment, error) {
	return c.Act(ctx, service, "approve")
}
