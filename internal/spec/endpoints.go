package spec

import (
	"regexp"
	"slices"
	"strings"
)

// Endpoint is a named group of a route's requests: those whose path starts with one of Paths
// (on a segment boundary; none: any path), whose method is one of Methods (none: any) and
// whose response carries route.endpoint_header with one of HeaderValues (none: any). A
// request belongs to the first endpoint it matches, or to none.
type Endpoint struct {
	Name         string   `yaml:"name" json:"name"`
	Paths        []string `yaml:"paths" json:"paths,omitempty"`
	Methods      []string `yaml:"methods" json:"methods,omitempty"`
	HeaderValues []string `yaml:"header_values" json:"header_values,omitempty"`
}

// EndpointHeader is the response header by which the app names a request's group, for
// endpoints that route and method cannot tell apart (one path for every GraphQL or RPC
// call, a group decided by the handler). Strip removes it from the response before the
// client sees it.
type EndpointHeader struct {
	Name  string `yaml:"name" json:"name"`
	Strip bool   `yaml:"strip" json:"strip,omitempty"`
}

// MaxEndpoints bounds a route's endpoints: each costs the proxy a histogram per revision and
// the judge a share of alpha.
const MaxEndpoints = 8

var (
	endpointName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	methodName   = regexp.MustCompile(`^[A-Z]{1,16}$`)
	headerName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,63}$`)
	headerValue  = regexp.MustCompile(`^[\x21-\x7e]([\x20-\x7e]{0,62}[\x21-\x7e])?$`)
)

// reservedHeaders are response headers that say how the message is framed or carried, not
// what the app did: they cannot name a group.
var reservedHeaders = []string{"connection", "content-length", "content-type", "keep-alive", "proxy-connection",
	"te", "trailer", "transfer-encoding", "upgrade", "set-cookie", "date", "server"}

// validateEndpoints checks the route's endpoints: named uniquely, each narrowing something.
func validateEndpoints(errs *Errors, eps []Endpoint, hdr *EndpointHeader) {
	const path = "route.endpoints"
	validateEndpointHeader(errs, eps, hdr)
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
		if len(e.Paths) == 0 && len(e.Methods) == 0 && len(e.HeaderValues) == 0 {
			errs.add(ep, "set paths, methods or header_values: an endpoint of every request is the whole route")
		}
		for k, v := range e.HeaderValues {
			switch {
			case hdr == nil || hdr.Name == "":
				errs.add(indexPath(ep+".header_values", k), "needs route.endpoint_header: the response header whose value names the group")
			case !headerValue.MatchString(v):
				errs.add(indexPath(ep+".header_values", k), "%q: want 1 to 64 printable ASCII characters, not starting or ending with a space", v)
			}
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

// validateEndpointHeader checks route.endpoint_header: a plain header name, not one that
// frames the message, used by some endpoint.
func validateEndpointHeader(errs *Errors, eps []Endpoint, hdr *EndpointHeader) {
	if hdr == nil {
		return
	}
	const path = "route.endpoint_header"
	switch {
	case hdr.Name == "":
		errs.add(path+".name", "required: the response header whose value names the group, like X-Endpoint")
	case !headerName.MatchString(hdr.Name):
		errs.add(path+".name", "%q: want a header name of letters, digits and '-' (at most 64)", hdr.Name)
	case slices.Contains(reservedHeaders, strings.ToLower(hdr.Name)):
		errs.add(path+".name", "%q frames or carries the response; choose a header of the app's own, like X-Endpoint", hdr.Name)
	}
	if !slices.ContainsFunc(eps, func(e Endpoint) bool { return len(e.HeaderValues) > 0 }) {
		errs.add(path, "no endpoint has header_values: name the values of %s that make each group", hdr.Name)
	}
}
