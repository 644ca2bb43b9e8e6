package api

import (
	"context"
	"net/http"
)

func (h *handler) migrateRoutes(v1 *routeMux) {
	if h.migrate == nil {
		return
	}
	v1.HandleFunc("GET /v1/services/{name}/migrations", h.migrationStatus)
	v1.HandleFunc("GET /v1/services/{name}/migrations/plan", h.migrationPlan)
	v1.HandleFunc("POST /v1/services/{name}/migrations/up", h.migrateRun(h.migrate.MigrateUp))
	v1.HandleFunc("POST /v1/services/{name}/migrations/contract", h.migrateRun(h.migrate.MigrateContract))
	v1.HandleFunc("POST /v1/services/{name}/migrations/down", h.migrateRun(h.migrate.MigrateDown))
}

func (h *handler) migrationStatus(w http.ResponseWriter, r *http.Request) {
	st, err := h.migrate.MigrationStatus(r.Context(), r.PathValue("name"))
	if st.Migrations == nil {
		st.Migrations = []MigrationState{}
	}
	h.reply(w, r, http.StatusOK, st, err)
}

func (h *handler) migrationPlan(w http.ResponseWriter, r *http.Request) {
	p, err := h.migrate.MigrationPlan(r.Context(), r.PathValue("name"))
	p.Expand, p.Contract = nonNil(p.Expand), nonNil(p.Contract)
	h.reply(w, r, http.StatusOK, p, err)
}

// migrateRun returns the handler of up, contract or down.
func (h *handler) migrateRun(run func(context.Context, string, MigrateRequest) (MigrationRun, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req MigrateRequest
		if err := decodeBody(w, r, &req); err != nil {
			h.fail(w, r, err)
			return
		}
		req.Who = Identity(r.Context())
		res, err := run(r.Context(), r.PathValue("name"), req)
		res.Applied = nonNil(res.Applied)
		h.reply(w, r, http.StatusOK, res, err)
	}
}
