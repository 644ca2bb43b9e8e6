package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxBodyBytes is the largest request body the handlers read (1 MiB).
const MaxBodyBytes = 1 << 20

// Defaults of the events long-poll.
const (
	// DefaultEventsPoll is how often a long-polling events request asks the Backend again.
	DefaultEventsPoll = 100 * time.Millisecond
	// DefaultEventsMaxWait caps the wait a client may ask for.
	DefaultEventsMaxWait = 2 * time.Minute
)

// handler serves the control API over a Backend. It holds no state besides its settings.
type handler struct {
	b          Backend
	logger     *slog.Logger
	pollEvery  time.Duration
	maxWait    time.Duration
	flags      FlagsBackend    // nil: no flag routes
	migrate    MigrateBackend  // nil: no migration routes
	keys       *Keyring        // nil: the token given to NewHandler, fixed
	rotator    TokenRotator    // nil: no token rotation route
	tokens     TokenAdmin      // nil: no named token routes
	promotions PromotionSource // nil: no promotion export route
	extra      []extraRoute    // more routes behind the same checks (metrics, daemon info)
	config     ConfigBackend   // nil: no secrets and config routes
}

// NewHandler returns the control API's HTTP handler over b. Every route but GET /healthz needs
// "Authorization: Bearer <token>" (401 otherwise) of a role that allows the route (RoleFor;
// 403 naming the missing role otherwise); an empty token refuses every such request. Errors of the
// Backend are mapped to statuses (see ErrNotFound and friends); 500s are logged on logger
// with the detail and answered with "internal error" only. Options add optional routes.
func NewHandler(b Backend, token string, logger *slog.Logger, opts ...Option) http.Handler {
	h := &handler{b: b, logger: logger, pollEvery: DefaultEventsPoll, maxWait: DefaultEventsMaxWait}
	for _, o := range opts {
		o(h)
	}
	v1 := newRouteMux()
	v1.HandleFunc("POST /v1/services/{name}/deploy", h.deploy)
	v1.HandleFunc("POST /v1/services/{name}/rollback", h.rollback)
	for _, action := range []string{"pause", "resume", "abort", "promote", "retry", "approve"} {
		v1.HandleFunc("POST /v1/services/{name}/"+action, h.act(action))
	}
	v1.HandleFunc("POST /v1/spec/check", h.checkSpec)
	v1.HandleFunc("GET /v1/services", h.services)
	v1.HandleFunc("GET /v1/services/{name}", h.service)
	v1.HandleFunc("GET /v1/services/{name}/history", h.history)
	v1.HandleFunc("GET /v1/services/{name}/deployments", h.deployments)
	v1.HandleFunc("GET /v1/services/{name}/logs", h.logs)
	v1.HandleFunc("GET /v1/deployments/{id}", h.deployment)
	v1.HandleFunc("GET /v1/events", h.events)
	h.flagRoutes(v1)
	h.migrateRoutes(v1)
	h.tokenRoutes(v1)
	h.namedTokenRoutes(v1)
	h.promotionRoutes(v1)
	for _, e := range h.extra {
		v1.Handle(e.pattern, e.h)
	}
	h.configRoutes(v1)

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	root.Handle("/", h.auth(token).Require(v1.mux))
	return &apiHandler{Handler: root, routes: v1.routes}
}

func (h *handler) deploy(w http.ResponseWriter, r *http.Request) {
	var req DeployRequest
	if err := decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	name := r.PathValue("name")
	if req.Service != "" && req.Service != name {
		h.fail(w, r, fmt.Errorf("deploy %s: body names service %q: %w", name, req.Service, ErrInvalid))
		return
	}
	req.Service = name
	req.Who = Identity(r.Context())
	d, err := h.b.Deploy(r.Context(), req)
	h.reply(w, r, http.StatusCreated, d, err)
}

func (h *handler) rollback(w http.ResponseWriter, r *http.Request) {
	var req RollbackRequest
	if err := decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	req.Who = Identity(r.Context())
	d, err := h.b.Rollback(r.Context(), r.PathValue("name"), req)
	h.reply(w, r, http.StatusCreated, d, err)
}

// act returns the handler of one operator action; promote?full=1 becomes "promote_full".
func (h *handler) act(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := action
		if a == "promote" {
			full, err := queryBool(r, "full")
			if err != nil {
				h.fail(w, r, err)
				return
			}
			if full {
				a = "promote_full"
			}
		}
		d, err := h.b.Act(r.Context(), r.PathValue("name"), a)
		h.reply(w, r, http.StatusOK, d, err)
	}
}

func (h *handler) checkSpec(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		h.fail(w, r, fmt.Errorf("read spec: %w", err))
		return
	}
	res, err := h.b.CheckSpec(r.Context(), body, r.URL.Query().Get("file"))
	h.reply(w, r, http.StatusOK, res, err)
}

func (h *handler) services(w http.ResponseWriter, r *http.Request) {
	list, err := h.b.Services(r.Context())
	h.reply(w, r, http.StatusOK, nonNil(list), err)
}

func (h *handler) service(w http.ResponseWriter, r *http.Request) {
	s, err := h.b.Service(r.Context(), r.PathValue("name"))
	h.reply(w, r, http.StatusOK, s, err)
}

func (h *handler) history(w http.ResponseWriter, r *http.Request) {
	list, err := h.b.History(r.Context(), r.PathValue("name"))
	h.reply(w, r, http.StatusOK, nonNil(list), err)
}

func (h *handler) deployments(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, err := h.b.Deployments(r.Context(), r.PathValue("name"), int(limit))
	h.reply(w, r, http.StatusOK, nonNil(list), err)
}

func (h *handler) deployment(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.fail(w, r, fmt.Errorf("deployment id %q: %w", r.PathValue("id"), ErrInvalid))
		return
	}
	d, err := h.b.Deployment(r.Context(), id)
	h.reply(w, r, http.StatusOK, d, err)
}

// reply writes v with status, or the mapped error when err is not nil.
func (h *handler) reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

// fail maps err to a status and writes it as an ErrorBody. Server faults are logged, and
// their detail stays out of the answer.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := errorBody(err)
	markUnavailable(w, status)
	if status == http.StatusInternalServerError || status == http.StatusServiceUnavailable {
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelDebug // the client went away; nobody to answer
		}
		h.logger.Log(r.Context(), level, "api request", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeJSON(w, status, body)
}

// errorBody chooses the status and body for err.
func errorBody(err error) (int, ErrorBody) {
	var ve *ValidationError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &ve):
		// The fields travel apart; the message keeps only the chain's first line.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return http.StatusBadRequest, ErrorBody{Error: msg, Fields: ve.Fields}
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, ErrorBody{Error: err.Error()}
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, ErrorBody{Error: err.Error()}
	case errors.Is(err, ErrConflict):
		return http.StatusConflict, ErrorBody{Error: err.Error()}
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden, ErrorBody{Error: err.Error()}
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, ErrorBody{Error: err.Error()}
	case isUnavailable(err):
		return http.StatusServiceUnavailable, ErrorBody{Error: err.Error()}
	}
	return http.StatusInternalServerError, ErrorBody{Error: "internal error"}
}

// decodeBody decodes a JSON body of at most MaxBodyBytes into v, refusing unknown fields and
// trailing data. An empty body leaves v as it is.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("decode request body: %w", err)
		}
		return fmt.Errorf("decode request body: %v: %w", err, ErrInvalid)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("decode request body: data after the JSON value: %w", ErrInvalid)
	}
	return nil
}

// writeJSON writes v as the JSON answer with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// An encoding error here means the client left; there is no one to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// queryInt parses the query parameter key as an integer; absent is 0.
func queryInt(r *http.Request, key string) (int64, error) {
	s := r.URL.Query().Get(key)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("query %s=%q: not a non-negative integer: %w", key, s, ErrInvalid)
	}
	return n, nil
}

// queryBool parses the query parameter key ("1", "true", ...); absent is false.
func queryBool(r *http.Request, key string) (bool, error) {
	s := r.URL.Query().Get(key)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("query %s=%q: not a boolean: %w", key, s, ErrInvalid)
	}
	return b, nil
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
