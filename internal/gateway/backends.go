// Package gateway steers a Gateway API HTTPRoute that a gateway already in the cluster
// serves: each revision of a service gets a Service of its own (selecting that revision's
// pods), and the route's backendRefs carry the revisions' weights, which cutover sets as
// its proxy would route them. Deciding the backends is pure (Backends); writing them is
// Steerer's; keeping them in step with a service's traffic is Syncer's.
package gateway

import (
	"fmt"
	"maps"
	"slices"
)

// Backend is one backendRef of the route: a revision's Service and its weight.
type Backend struct {
	Revision int
	Service  string
	Weight   int
}

// ServiceName is the name of the Service of a service's revision.
func ServiceName(service string, revision int) string {
	return fmt.Sprintf("%s-r%d", service, revision)
}

// Backends turns a service's traffic shares by revision (a canary's baseline, a negative
// key, counts as its revision: its pods carry the same labels) into backendRefs in
// revision order. Revisions without weight are left out; an empty result means that no
// revision serves.
func Backends(service string, shares map[int]int) []Backend {
	merged := map[int]int{}
	for rev, w := range shares {
		if rev < 0 {
			rev = -rev
		}
		merged[rev] += w
	}
	var out []Backend
	for _, rev := range slices.Sorted(maps.Keys(merged)) {
		if w := merged[rev]; w > 0 {
			out = append(out, Backend{Revision: rev, Service: ServiceName(service, rev), Weight: w})
		}
	}
	return out
}
