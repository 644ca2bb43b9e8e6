package api

import (
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/cutover/cutover/internal/flags"
)

// flagRoutes registers the feature flag routes when a FlagsBackend was given. The author of a
// change, for the audit history, is the name of the token that made it (Identity); a who
// query parameter is ignored.
func (h *handler) flagRoutes(v1 *routeMux) {
	if h.flags == nil {
		return
	}
	v1.HandleFunc("GET /v1/flags", h.listFlags)
	v1.HandleFunc("POST /v1/flags/import", h.importFlags)
	v1.HandleFunc("GET /v1/flags/{key}", h.getFlag)
	v1.HandleFunc("PUT /v1/flags/{key}", h.putFlag)
	v1.HandleFunc("DELETE /v1/flags/{key}", h.deleteFlag)
	v1.HandleFunc("POST /v1/flags/{key}/enable", h.enableFlag(true))
	v1.HandleFunc("POST /v1/flags/{key}/disable", h.enableFlag(false))
	v1.HandleFunc("POST /v1/flags/{key}/rollout", h.rolloutFlag)
	v1.HandleFunc("GET /v1/flags/{key}/history", h.flagHistory)
	v1.HandleFunc("GET /v1/flag-history", h.flagHistory)
	v1.HandleFunc("POST /v1/sdk-tokens", h.createSDKToken)
	v1.HandleFunc("GET /v1/sdk-tokens", h.listSDKTokens)
	v1.HandleFunc("DELETE /v1/sdk-tokens/{name}", h.revokeSDKToken)
}

// listFlags answers GET /v1/flags: JSON, or with format=yaml the flags-as-code export.
func (h *handler) listFlags(w http.ResponseWriter, r *http.Request) {
	switch format := r.URL.Query().Get("format"); format {
	case "", "json":
		list, err := h.flags.Flags(r.Context())
		h.reply(w, r, http.StatusOK, nonNil(list), err)
	case "yaml":
		data, err := h.flags.ExportFlags(r.Context())
		if err != nil {
			h.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/yaml")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(data)
	default:
		h.fail(w, r, fmt.Errorf("query format=%q: want json or yaml: %w", format, ErrInvalid))
	}
}

func (h *handler) getFlag(w http.ResponseWriter, r *http.Request) {
	f, err := h.flags.Flag(r.Context(), r.PathValue("key"))
	h.reply(w, r, http.StatusOK, f, err)
}

// putFlag answers PUT /v1/flags/{key}: a JSON flag, or the YAML text of one flag when the
// body's type is application/yaml.
func (h *handler) putFlag(w http.ResponseWriter, r *http.Request) {
	key, who := r.PathValue("key"), Identity(r.Context())
	if isYAML(r) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			h.fail(w, r, fmt.Errorf("read flag: %w", err))
			return
		}
		f, err := h.flags.PutFlagYAML(r.Context(), who, key, body, r.URL.Query().Get("file"))
		h.reply(w, r, http.StatusOK, f, err)
		return
	}
	var f flags.Flag
	if err := decodeBody(w, r, &f); err != nil {
		h.fail(w, r, err)
		return
	}
	if f.Key == "" {
		f.Key = key
	}
	if f.Key != key {
		h.fail(w, r, fmt.Errorf("put flag %s: body names flag %q: %w", key, f.Key, ErrInvalid))
		return
	}
	st, err := h.flags.PutFlag(r.Context(), who, f)
	h.reply(w, r, http.StatusOK, st, err)
}

func isYAML(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/yaml" || mt == "application/x-yaml" || mt == "text/yaml"
}

func (h *handler) deleteFlag(w http.ResponseWriter, r *http.Request) {
	err := h.flags.DeleteFlag(r.Context(), Identity(r.Context()), r.PathValue("key"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) enableFlag(enabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, err := h.flags.SetFlagEnabled(r.Context(), Identity(r.Context()), r.PathValue("key"), enabled)
		h.reply(w, r, http.StatusOK, f, err)
	}
}

func (h *handler) rolloutFlag(w http.ResponseWriter, r *http.Request) {
	var req FlagRolloutRequest
	if err := decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	f, err := h.flags.SetFlagRollout(r.Context(), Identity(r.Context()), r.PathValue("key"), req)
	h.reply(w, r, http.StatusOK, f, err)
}

// flagHistory answers GET /v1/flags/{key}/history and GET /v1/flag-history?key=&kind=&limit=.
func (h *handler) flagHistory(w http.ResponseWriter, r *http.Request) {
	q := FlagHistoryQuery{Key: r.PathValue("key"), Kind: r.URL.Query().Get("kind")}
	if q.Key == "" {
		q.Key = r.URL.Query().Get("key")
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q.Limit = int(limit)
	list, err := h.flags.FlagHistory(r.Context(), q)
	h.reply(w, r, http.StatusOK, nonNil(list), err)
}

// importFlags answers POST /v1/flags/import with a YAML body; query prune, dry_run, file.
func (h *handler) importFlags(w http.ResponseWriter, r *http.Request) {
	var opts flags.ImportOptions
	var err error
	if opts.Prune, err = queryBool(r, "prune"); err != nil {
		h.fail(w, r, err)
		return
	}
	if opts.DryRun, err = queryBool(r, "dry_run"); err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		h.fail(w, r, fmt.Errorf("read flags file: %w", err))
		return
	}
	res, err := h.flags.ImportFlags(r.Context(), Identity(r.Context()), body, r.URL.Query().Get("file"), opts)
	if res.Changes == nil {
		res.Changes = []flags.Record{}
	}
	h.reply(w, r, http.StatusOK, res, err)
}

func (h *handler) createSDKToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	t, err := h.flags.CreateSDKToken(r.Context(), Identity(r.Context()), req.Name)
	h.reply(w, r, http.StatusCreated, t, err)
}

func (h *handler) listSDKTokens(w http.ResponseWriter, r *http.Request) {
	list, err := h.flags.SDKTokens(r.Context())
	h.reply(w, r, http.StatusOK, nonNil(list), err)
}

func (h *handler) revokeSDKToken(w http.ResponseWriter, r *http.Request) {
	if err := h.flags.RevokeSDKToken(r.Context(), Identity(r.Context()), r.PathValue("name")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
