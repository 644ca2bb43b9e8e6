package api

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/cutover/cutover/internal/auth"
)

// routeRoles is the role each route of the control API needs, in one place for review. A
// route missing here needs admin (closed by default); TestEveryRouteChecksItsRole walks
// every registered route with every role.
var routeRoles = map[string]auth.Role{
	"GET /v1/services":                             auth.Viewer,
	"GET /v1/services/{name}":                      auth.Viewer,
	"GET /v1/services/{name}/history":              auth.Viewer,
	"GET /v1/services/{name}/deployments":          auth.Viewer,
	"GET /v1/services/{name}/logs":                 auth.Viewer,
	"GET /v1/services/{name}/series":               auth.Viewer,
	"GET /v1/services/{name}/migrations":           auth.Viewer,
	"GET /v1/services/{name}/migrations/plan":      auth.Viewer,
	"GET /v1/deployments/{id}":                     auth.Viewer,
	"GET /v1/events":                               auth.Viewer,
	"POST /v1/spec/check":                          auth.Viewer,
	"GET /v1/services/{name}/secrets":              auth.Viewer,
	"POST /v1/services/{name}/config/check":        auth.Viewer,
	"GET /v1/flags":                                auth.Viewer,
	"GET /v1/flags/{key}":                          auth.Viewer,
	"GET /v1/flags/{key}/history":                  auth.Viewer,
	"GET /v1/flag-history":                         auth.Viewer,
	"GET /v1/daemon":                               auth.Viewer,
	"GET /metrics":                                 auth.Viewer,
	"GET /v1/notifications":                        auth.Viewer,
	"POST /v1/notifications/test":                  auth.Deployer,
	"GET /v1/certificates":                         auth.Viewer,
	"POST /v1/services/{name}/deploy":              auth.Deployer,
	"GET /v1/services/{name}/promotion":            auth.Deployer,
	"POST /v1/services/{name}/rollback":            auth.Deployer,
	"POST /v1/services/{name}/pause":               auth.Deployer,
	"POST /v1/services/{name}/resume":              auth.Deployer,
	"POST /v1/services/{name}/abort":               auth.Deployer,
	"POST /v1/services/{name}/promote":             auth.Deployer,
	"POST /v1/services/{name}/retry":               auth.Deployer,
	"POST /v1/services/{name}/pause-traffic":       auth.Deployer,
	"POST /v1/services/{name}/resume-traffic":      auth.Deployer,
	"DELETE /v1/services/{name}":                   auth.Deployer,
	"PUT /v1/services/{name}/secrets/{secret}":     auth.Deployer,
	"DELETE /v1/services/{name}/secrets/{secret}":  auth.Deployer,
	"POST /v1/services/{name}/migrations/up":       auth.Deployer,
	"POST /v1/services/{name}/migrations/contract": auth.Deployer,
	"POST /v1/services/{name}/migrations/down":     auth.Deployer,
	"PUT /v1/flags/{key}":                          auth.Deployer,
	"DELETE /v1/flags/{key}":                       auth.Deployer,
	"POST /v1/flags/{key}/enable":                  auth.Deployer,
	"POST /v1/flags/{key}/disable":                 auth.Deployer,
	"POST /v1/flags/{key}/rollout":                 auth.Deployer,
	"POST /v1/flags/import":                        auth.Deployer,
	"POST /v1/services/{name}/approve":             auth.Approver,
	"POST /v1/token/rotate":                        auth.Admin,
	"POST /v1/tokens":                              auth.Admin,
	"GET /v1/tokens":                               auth.Admin,
	"DELETE /v1/tokens/{name}":                     auth.Admin,
	"POST /v1/sdk-tokens":                          auth.Admin,
	"GET /v1/sdk-tokens":                           auth.Admin,
	"DELETE /v1/sdk-tokens/{name}":                 auth.Admin,
}

// RoleFor returns the role the route pattern needs: admin for a pattern not in the table.
func RoleFor(pattern string) auth.Role {
	if r, ok := routeRoles[pattern]; ok {
		return r
	}
	return auth.Admin
}

// RoleListed reports whether the role table names pattern (a route left out needs admin).
func RoleListed(pattern string) bool {
	_, ok := routeRoles[pattern]
	return ok
}

// Route is one registered route of the control API and the role it needs.
type Route struct {
	Pattern string
	Role    auth.Role
}

// routeMux registers each route behind the check of the role it needs, and remembers it.
type routeMux struct {
	mux    *http.ServeMux
	routes []Route
}

func newRouteMux() *routeMux { return &routeMux{mux: http.NewServeMux()} }

// HandleFunc registers f for pattern (a method and a path), behind RoleFor(pattern).
func (m *routeMux) HandleFunc(pattern string, f http.HandlerFunc) {
	m.Handle(pattern, f)
}

// Handle registers h for pattern, behind RoleFor(pattern).
func (m *routeMux) Handle(pattern string, h http.Handler) {
	role := RoleFor(pattern)
	m.routes = append(m.routes, Route{Pattern: pattern, Role: role})
	m.mux.Handle(pattern, requireRole(pattern, role, h))
}

// requireRole serves only callers whose role allows need; others get 403 naming the role
// missing. Require has authenticated the caller before.
func requireRole(pattern string, need auth.Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := CallerOf(r.Context())
		if !c.Role.Allows(need) {
			msg := fmt.Sprintf("forbidden: %s needs role %s; token %q has role %s", pattern, need, c.Name, c.Role)
			writeJSON(w, http.StatusForbidden, ErrorBody{Error: msg, MissingRole: string(need)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Routes returns the routes of a handler made by NewHandler, sorted; nil for another handler.
func Routes(h http.Handler) []Route {
	a, ok := h.(*apiHandler)
	if !ok {
		return nil
	}
	out := slices.Clone(a.routes)
	slices.SortFunc(out, func(x, y Route) int {
		if x.Pattern < y.Pattern {
			return -1
		}
		if x.Pattern > y.Pattern {
			return 1
		}
		return 0
	})
	return out
}

// apiHandler is the control API's handler with the list of its routes.
type apiHandler struct {
	http.Handler
	routes []Route
}
