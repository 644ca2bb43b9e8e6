package flags

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// EventsPath is where the OFREP handler serves its server-sent change events.
const EventsPath = "/ofrep/v1/events"

// OFREPOptions configures the OFREP handler. Zero values mean the documented defaults.
type OFREPOptions struct {
	// Tokens authenticates SDK tokens. Nil refuses every request (401).
	Tokens TokenChecker
	// QueryTokens authenticates a token sent as the query parameter token of the event
	// stream, for EventSource clients that cannot set headers. A token in a URL ends up in
	// logs and browser history, so it should admit only tokens that can do no more than
	// evaluate (not an admin token). Nil refuses tokens in the query.
	QueryTokens TokenChecker
	// Now is the evaluation clock; time.Now when nil.
	Now func() time.Time
	// MaxBodyBytes caps a request body; 64 KiB by default.
	MaxBodyBytes int64
	// EventStreamURL, when set, is advertised as the absolute SSE url in bulk responses;
	// otherwise the response carries endpoint.requestUri = EventsPath.
	EventStreamURL string
	// Heartbeat is the interval of SSE comment lines that keep idle proxies from closing the
	// stream; 15 s by default.
	Heartbeat time.Duration
	// Retry is the SSE reconnection delay suggested to clients; 1 s by default.
	Retry time.Duration
	// Done, when closed, ends every open event stream, so that http.Server.Shutdown need not
	// wait for clients to leave. Nil means streams end only with their requests.
	Done <-chan struct{}
}

// ofrep serves the OpenFeature Remote Evaluation Protocol from a Manager's snapshots.
type ofrep struct {
	m    *Manager
	log  *slog.Logger
	opts OFREPOptions
}

// NewOFREPHandler returns the OFREP endpoints, to be mounted at the server root (they carry
// their full paths): POST /ofrep/v1/evaluate/flags/{key}, POST /ofrep/v1/evaluate/flags and
// GET EventsPath. Every request needs an SDK token that opts.Tokens accepts.
func NewOFREPHandler(m *Manager, logger *slog.Logger, opts OFREPOptions) http.Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 64 << 10
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	if opts.Retry <= 0 {
		opts.Retry = time.Second
	}
	h := &ofrep{m: m, log: logger, opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ofrep/v1/evaluate/flags/{key}", h.auth(false, h.evaluateOne))
	mux.HandleFunc("POST /ofrep/v1/evaluate/flags", h.auth(false, h.evaluateAll))
	mux.HandleFunc("GET "+EventsPath, h.auth(true, h.events))
	return mux
}

// auth admits only requests whose token the TokenChecker accepts.
func (h *ofrep) auth(allowQuery bool, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := errUnauthorized
		tok, inQuery := requestToken(r, allowQuery)
		check := h.opts.Tokens
		if inQuery {
			check = h.opts.QueryTokens
		}
		if tok != "" && check != nil {
			err = check.CheckToken(r.Context(), tok)
		}
		switch {
		case err == nil:
			next(w, r)
		case errors.Is(err, ErrForbidden):
			w.WriteHeader(http.StatusForbidden)
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="cutover-ofrep"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}
}

// evalSuccess is OFREP's evaluationSuccess (with a value: cutover never defers to code defaults).
type evalSuccess struct {
	Key     string `json:"key"`
	Value   any    `json:"value"`
	Reason  string `json:"reason"`
	Variant string `json:"variant,omitempty"`
}

// evalFailure is OFREP's evaluationFailure and flagNotFound, and without a key its
// bulkEvaluationFailure.
type evalFailure struct {
	Key          string `json:"key,omitempty"`
	ErrorCode    string `json:"errorCode"`
	ErrorDetails string `json:"errorDetails,omitempty"`
}

// evaluateOne answers POST /ofrep/v1/evaluate/flags/{key}.
func (h *ofrep) evaluateOne(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	ec, code, details := h.readContext(w, r)
	if code != "" {
		writeJSON(w, http.StatusBadRequest, evalFailure{Key: key, ErrorCode: string(code), ErrorDetails: details})
		return
	}
	res := h.m.Snapshot().Evaluate(key, &ec, h.opts.Now())
	switch res.ErrorCode {
	case "":
		writeJSON(w, http.StatusOK, success(key, res))
	case CodeFlagNotFound:
		writeJSON(w, http.StatusNotFound, failure(key, res))
	default:
		writeJSON(w, http.StatusBadRequest, failure(key, res))
	}
}

// bulkResponse is OFREP's bulkEvaluationSuccess.
type bulkResponse struct {
	Flags        []any             `json:"flags"`
	EventStreams []eventStream     `json:"eventStreams,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

type eventStream struct {
	Type     string          `json:"type"`
	URL      string          `json:"url,omitempty"`
	Endpoint *streamEndpoint `json:"endpoint,omitempty"`
}

type streamEndpoint struct {
	RequestURI string `json:"requestUri"`
}

// evaluateAll answers POST /ofrep/v1/evaluate/flags. Its ETag is a hash of the response body,
// so it is right for this context at this time, whatever changed: flags or a rollout's share.
func (h *ofrep) evaluateAll(w http.ResponseWriter, r *http.Request) {
	ec, code, details := h.readContext(w, r)
	if code != "" {
		writeJSON(w, http.StatusBadRequest, evalFailure{ErrorCode: string(code), ErrorDetails: details})
		return
	}
	snap, now := h.m.Snapshot(), h.opts.Now()
	resp := bulkResponse{Flags: make([]any, 0, len(snap.Keys())), Metadata: map[string]string{"version": snap.ETag()}}
	for _, key := range snap.Keys() {
		if res := snap.Evaluate(key, &ec, now); res.ErrorCode == "" {
			resp.Flags = append(resp.Flags, success(key, res))
		} else {
			resp.Flags = append(resp.Flags, failure(key, res))
		}
	}
	resp.EventStreams = []eventStream{{Type: "sse", URL: h.opts.EventStreamURL}}
	if h.opts.EventStreamURL == "" {
		resp.EventStreams[0].Endpoint = &streamEndpoint{RequestURI: EventsPath}
	}
	body, err := json.Marshal(resp)
	if err != nil {
		h.log.Error("encode bulk evaluation", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"errorDetails": "internal error"})
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}

// etagMatch implements If-None-Match's weak comparison against a list of tags or "*".
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag || `"`+t+`"` == etag {
			return true
		}
	}
	return false
}

func success(key string, res Result) evalSuccess {
	return evalSuccess{Key: key, Value: res.Value, Reason: wireReason(res.Reason), Variant: res.Variant}
}

// failure converts an error Result; TYPE_MISMATCH, which OFREP leaves to providers, becomes
// GENERAL.
func failure(key string, res Result) evalFailure {
	code := res.ErrorCode
	if code == CodeTypeMismatch {
		code = CodeGeneral
	}
	return evalFailure{Key: key, ErrorCode: string(code), ErrorDetails: res.ErrorDetails}
}

// wireReason maps a Reason onto OFREP's enum, which has no DEFAULT: a fall-through to the
// default variant is reported as UNKNOWN there.
func wireReason(r Reason) string {
	if r == ReasonDefault {
		return "UNKNOWN"
	}
	return string(r)
}

// readContext decodes {"context": {...}} into an EvalContext, or returns PARSE_ERROR for a
// body that is not a JSON object and INVALID_CONTEXT for a context of the wrong shape.
// A body without context, or with null, evaluates with an empty context.
func (h *ofrep) readContext(w http.ResponseWriter, r *http.Request) (EvalContext, ErrorCode, string) {
	var req struct {
		Context json.RawMessage `json:"context"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		return EvalContext{}, CodeParseError, fmt.Sprintf("read request body: %v", err)
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return EvalContext{}, CodeParseError, fmt.Sprintf("request body is not a JSON object: %v", err)
	}
	var attrs map[string]any
	if len(req.Context) > 0 && !bytes.Equal(req.Context, []byte("null")) {
		if err := json.Unmarshal(req.Context, &attrs); err != nil {
			return EvalContext{}, CodeInvalidContext, "context must be a JSON object"
		}
	}
	ec := EvalContext{Attributes: attrs}
	if tk, ok := attrs[targetingKeyAttr]; ok && tk != nil {
		s, isString := tk.(string)
		if !isString {
			return EvalContext{}, CodeInvalidContext, "context.targetingKey must be a string"
		}
		ec.TargetingKey = s
	}
	return ec, "", ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do then
}
