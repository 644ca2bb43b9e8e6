package spec

import (
	"regexp"
	"slices"
	"strings"
)

// Endpoint is a named group of a route's requests: those whose path starts with one of Paths
// (on a segment boundary; none: any path) and whose method is one of Methods (none: any).
// A request belongs to the first endpoint it matches, or to none.
type Endpoint struct {
	Name    string   `yaml:"name" json:"name"`
	Paths   []string `yaml:"paths" json:"paths,omitempty"`
	Methods []string `yaml:"methods" json:"methods,omitempty"`
}

// MaxEndpoints bounds a route's endpoints: each costs the proxy a histogram per revision and
// the judge a share of alpha.
const MaxEndpoints = 8

var (
	endpointName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	methodName   = regexp.MustCompile(`^[A-Z]{1,16}$`)
)

// validateEndpoints checks the route's endpoints: named uniquely, each narrowing something.
func validateEndpoints(errs *Errors, eps []Endpoint) {
	const path = "route.endpoints"
	if len(eps) > MaxEndpoints {
		errs.add(path, "%d endpoints; at most %d", len(eps), MaxEndpoints)
	}
	var seen []string
	for i, e := range eps {
		ep := indexPath(path, i)
		switch {
		case !endpointName.MatchString(e.Name):
			errs.add(ep+".name", "%q: want 1 to 32 lowercase letters, digits, '-' or '_'", e.Name)
		case slices.Contains(seen, e.Name):
			errs.add(ep+".name", "%q is named twice", e.Name)
		}
		seen = append(seen, e.Name)
		if len(e.Paths) == 0 && len(e.Methods) == 0 {
			errs.add(ep, "set paths, methods or both: an endpoint of every request is the whole route")
		}
		for k, p := range e.Paths {
			if !strings.HasPrefix(p, "/") {
				errs.add(indexPath(ep+".paths", k), "%q must start with '/'", p)
			}
		}
		for k, m := range e.Methods {
			if !methodName.MatchString(m) {
				errs.add(indexPath(ep+".methods", k), "%q: want an HTTP method in capitals, like GET or POST", m)
			}
		}
	}
}
