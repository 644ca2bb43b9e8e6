package api

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// MaxTokenGrace is the longest a rotated-out token may still be admitted.
const MaxTokenGrace = 24 * time.Hour

// RotateTokenRequest is the body of POST /v1/token/rotate.
type RotateTokenRequest struct {
	// Grace is how long the replaced token is still admitted, as a Go duration ("30s");
	// empty or "0s": not at all. At most MaxTokenGrace.
	Grace string `json:"grace,omitempty"`
}

// TokenRotation is the answer of POST /v1/token/rotate.
type TokenRotation struct {
	// Token is the new token. It is the only place the API shows a token: the caller
	// authenticated with the one it replaces.
	Token string `json:"token"`
	// File is where the daemon wrote it (mode 0600), and where the CLI reads it from.
	File string `json:"file"`
	// PreviousValidUntil is when the replaced token stops being admitted.
	PreviousValidUntil time.Time `json:"previous_valid_until"`
}

// TokenRotator rotates the control API's token: it stores the new token where the CLI finds
// it, then makes the API admit it, and the replaced one only for grace. On an error the
// token is unchanged.
type TokenRotator interface {
	RotateToken(ctx context.Context, grace time.Duration) (TokenRotation, error)
}

// WithKeyring makes the handler admit the tokens of k rather than the fixed token given to
// NewHandler, so that they can be rotated.
func WithKeyring(k *Keyring) Option {
	return func(h *handler) { h.keys = k }
}

// WithTokenRotation serves POST /v1/token/rotate through r.
func WithTokenRotation(r TokenRotator) Option {
	return func(h *handler) { h.rotator = r }
}

// tokenRoutes registers the token routes when a rotator is configured.
func (h *handler) tokenRoutes(mux *routeMux) {
	if h.rotator == nil {
		return
	}
	mux.HandleFunc("POST /v1/token/rotate", h.rotateToken)
}

// auth is the keyring that guards every route but /healthz.
func (h *handler) auth(token string) *Keyring {
	if h.keys != nil {
		return h.keys
	}
	return NewKeyring(token)
}

func (h *handler) rotateToken(w http.ResponseWriter, r *http.Request) {
	var req RotateTokenRequest
	if err := decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	grace, err := parseGrace(req.Grace)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := h.rotator.RotateToken(r.Context(), grace)
	w.Header().Set("Cache-Control", "no-store")
	h.reply(w, r, http.StatusOK, res, err)
}

// parseGrace checks the grace field: a duration from 0 to MaxTokenGrace.
func parseGrace(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > MaxTokenGrace {
		return 0, fmt.Errorf("grace %q: want a duration from 0s to %s: %w", s, MaxTokenGrace, ErrInvalid)
	}
	return d, nil
}

// RotateToken asks the daemon for a new API token; the one this client holds is admitted
// for grace more. The client keeps sending its old token: make a new client with the
// answer's Token.
func (c *Client) RotateToken(ctx context.Context, grace time.Duration) (TokenRotation, error) {
	var res TokenRotation
	err := c.call(ctx, http.MethodPost, "/v1/token/rotate", nil, RotateTokenRequest{Grace: grace.String()}, &res)
	return res, err
}
