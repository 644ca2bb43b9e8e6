package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Promotion is a revision that succeeded in one environment, as another one deploys it:
// its spec without what belongs to an environment (run.env, the hooks' env; the target
// keeps its own, and its own secrets), and where it comes from.
type Promotion struct {
	Service  string `json:"service"`
	Revision int    `json:"revision"`
	// SpecHash is the revision's spec hash in the environment it comes from.
	SpecHash string `json:"spec_hash"`
	// Spec is the revision's spec as JSON, without run.env and the hooks' env.
	Spec json.RawMessage `json:"spec"`
	// Environment is the source daemon's --environment ("" when it has none).
	Environment string `json:"environment,omitempty"`
	// SucceededAt is when a deployment of the revision succeeded there.
	SucceededAt time.Time `json:"succeeded_at"`
	// Migrations are the migration files the revision carries (its spec's database).
	Migrations []MigrationFile `json:"migrations,omitempty"`
	// Attestation is the source environment's signature (Ed25519, base64) over the service,
	// revision, spec, migration files and SucceededAt; the receiving daemon verifies it with
	// the key it trusts for Environment and refuses a promotion that does not verify.
	Attestation string `json:"attestation,omitempty"`
	// From names the environment the revision comes from. The receiving daemon sets it to the
	// verified Environment; a different value is refused.
	From string `json:"from,omitempty"`
}

// MigrationFile is one migration file a promoted revision carries.
type MigrationFile struct {
	Name    string `json:"name"`
	Content []byte `json:"content"`
}

// PromotionSource exports a revision that succeeded here (revision 0: the stable one); an
// unknown service or revision wraps ErrNotFound, one that never succeeded ErrConflict.
type PromotionSource interface {
	Promotion(ctx context.Context, service string, revision int) (Promotion, error)
}

// WithPromotions serves GET /v1/services/{name}/promotion through p.
func WithPromotions(p PromotionSource) Option {
	return func(h *handler) { h.promotions = p }
}

func (h *handler) promotionRoutes(mux *routeMux) {
	if h.promotions == nil {
		return
	}
	mux.HandleFunc("GET /v1/services/{name}/promotion", func(w http.ResponseWriter, r *http.Request) {
		rev, err := queryInt(r, "revision")
		if err != nil {
			h.fail(w, r, err)
			return
		}
		p, err := h.promotions.Promotion(r.Context(), r.PathValue("name"), int(rev))
		h.reply(w, r, http.StatusOK, p, err)
	})
}

// Promotion asks for the revision of service to promote elsewhere (0: the stable one).
func (c *Client) Promotion(ctx context.Context, service string, revision int) (Promotion, error) {
	q := url.Values{}
	if revision > 0 {
		q.Set("revision", strconv.Itoa(revision))
	}
	var p Promotion
	err := c.call(ctx, http.MethodGet, servicePath(service, "promotion"), q, nil, &p)
	return p, err
}

// DaemonIdentity is the part of GET /v1/daemon that promotions need: the daemon's
// environment and the public key it signs promotions with.
type DaemonIdentity struct {
	Environment    string `json:"environment,omitempty"`
	AttestationKey string `json:"attestation_key"`
}

// Identity asks the daemon for its environment and attestation key.
func (c *Client) Identity(ctx context.Context) (DaemonIdentity, error) {
	var id DaemonIdentity
	err := c.call(ctx, http.MethodGet, "/v1/daemon", nil, nil, &id)
	return id, err
}
