package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/cutover/cutover/internal/spec"
)

// specs caches each revision's spec, loaded from the store on demand. Its lock is taken in
// this file only.
type specs struct {
	store Store
	mu    sync.Mutex
	cache map[string]map[int]spec.Service
}

func newSpecs(st Store) *specs { return &specs{store: st, cache: map[string]map[int]spec.Service{}} }

// get returns a revision's spec, from the cache or the store.
func (c *specs) get(ctx context.Context, service string, rev int) (spec.Service, error) {
	if rs, ok := c.cached(service, rev); ok {
		return rs, nil
	}
	r, err := c.store.GetRevision(ctx, service, rev)
	if err != nil {
		return spec.Service{}, fmt.Errorf("revision %d of %s: %w", rev, service, err)
	}
	var rs spec.Service
	if err := json.Unmarshal(r.Spec, &rs); err != nil {
		return spec.Service{}, fmt.Errorf("decode revision %d of %s: %w", rev, service, err)
	}
	c.put(service, rev, rs)
	return rs, nil
}

// cached returns a revision's spec when the cache holds it.
func (c *specs) cached(service string, rev int) (spec.Service, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rs, ok := c.cache[service][rev]
	return rs, ok
}

// put keeps a revision's spec.
func (c *specs) put(service string, rev int, rs spec.Service) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache[service] == nil {
		c.cache[service] = map[int]spec.Service{}
	}
	c.cache[service][rev] = rs
}

// reset forgets every spec, with the live view (Fleet.Reset).
func (c *specs) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.cache)
}

// forget drops a removed service's specs.
func (c *specs) forget(service string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cache, service)
}
