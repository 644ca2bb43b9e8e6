package api

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// ConfigBackend is what the config and secrets routes need: a service's secrets store (values
// go in, never out) and the check of a deploy's environment against the spec's config.
type ConfigBackend interface {
	// SetSecret records a new version of the secret; when the service has been deployed it
	// starts a deployment of a new revision that uses it.
	SetSecret(ctx context.Context, who, service, name, value string) (SecretChange, error)
	// UnsetSecret removes the secret (a new version that holds no value), likewise.
	UnsetSecret(ctx context.Context, who, service, name string) (SecretChange, error)
	// Secrets lists the secrets set now, without their values.
	Secrets(ctx context.Context, service string) ([]Secret, error)
	// CheckConfig resolves the spec a deploy with req would run (overrides, secrets) and
	// checks its environment against its config, changing nothing.
	CheckConfig(ctx context.Context, req DeployRequest) (CheckResult, error)
}

// Secret describes one secret of a service. It never carries the value.
type Secret struct {
	Name      string    `json:"name"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// SecretRequest sets a secret's value.
type SecretRequest struct {
	Value string `json:"value"`
}

// SecretChange is the result of setting or unsetting a secret: its new version and, when the
// service runs, the deployment that carries the change.
type SecretChange struct {
	Secret     Secret      `json:"secret"`
	Deployment *Deployment `json:"deployment,omitempty"`
}

// WithConfig serves the secrets and config-check routes over cb.
func WithConfig(cb ConfigBackend) Option {
	return func(h *handler) { h.config = cb }
}

func (h *handler) configRoutes(v1 *routeMux) {
	if h.config == nil {
		return
	}
	v1.HandleFunc("GET /v1/services/{name}/secrets", func(w http.ResponseWriter, r *http.Request) {
		list, err := h.config.Secrets(r.Context(), r.PathValue("name"))
		h.reply(w, r, http.StatusOK, nonNil(list), err)
	})
	v1.HandleFunc("PUT /v1/services/{name}/secrets/{secret}", func(w http.ResponseWriter, r *http.Request) {
		var req SecretRequest
		if err := decodeBody(w, r, &req); err != nil {
			h.fail(w, r, err)
			return
		}
		ch, err := h.config.SetSecret(r.Context(), Identity(r.Context()), r.PathValue("name"), r.PathValue("secret"), req.Value)
		h.reply(w, r, http.StatusOK, ch, err)
	})
	v1.HandleFunc("DELETE /v1/services/{name}/secrets/{secret}", func(w http.ResponseWriter, r *http.Request) {
		ch, err := h.config.UnsetSecret(r.Context(), Identity(r.Context()), r.PathValue("name"), r.PathValue("secret"))
		h.reply(w, r, http.StatusOK, ch, err)
	})
	v1.HandleFunc("POST /v1/services/{name}/config/check", func(w http.ResponseWriter, r *http.Request) {
		var req DeployRequest
		if err := decodeBody(w, r, &req); err != nil {
			h.fail(w, r, err)
			return
		}
		req.Service = r.PathValue("name")
		res, err := h.config.CheckConfig(r.Context(), req)
		h.reply(w, r, http.StatusOK, res, err)
	})
}

// SetSecret sets a service's secret.
func (c *Client) SetSecret(ctx context.Context, service, name, value string) (SecretChange, error) {
	var out SecretChange
	err := c.call(ctx, http.MethodPut, "/v1/services/"+url.PathEscape(service)+"/secrets/"+url.PathEscape(name), nil, SecretRequest{Value: value}, &out)
	return out, err
}

// UnsetSecret removes a service's secret.
func (c *Client) UnsetSecret(ctx context.Context, service, name string) (SecretChange, error) {
	var out SecretChange
	err := c.call(ctx, http.MethodDelete, "/v1/services/"+url.PathEscape(service)+"/secrets/"+url.PathEscape(name), nil, nil, &out)
	return out, err
}

// Secrets lists a service's secrets, without values.
func (c *Client) Secrets(ctx context.Context, service string) ([]Secret, error) {
	var out []Secret
	err := c.call(ctx, http.MethodGet, "/v1/services/"+url.PathEscape(service)+"/secrets", nil, nil, &out)
	return out, err
}

// CheckConfig checks the environment a deploy with req would give the service.
func (c *Client) CheckConfig(ctx context.Context, req DeployRequest) (CheckResult, error) {
	var out CheckResult
	err := c.call(ctx, http.MethodPost, "/v1/services/"+url.PathEscape(req.Service)+"/config/check", nil, req, &out)
	return out, err
}
