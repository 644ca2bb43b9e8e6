package coordinator

import (
	"crypto/sha256"
	"slices"
	"sync"

	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/store"
)

// lintCacheSize bounds the migration sets remembered; past it the cache starts afresh.
const lintCacheSize = 64

// lintCache remembers the findings of migration sets already linted: the PostgreSQL parser
// takes seconds to start, and most deployments carry the same files as the one before.
// Findings depend only on the files' names and contents, so those are the key. Only this
// file takes mu.
type lintCache struct {
	mu    sync.Mutex
	found map[[sha256.Size]byte][]migrate.Finding
}

// lintKey hashes the files' names and contents, in order.
func lintKey(files []store.MigrationFile) [sha256.Size]byte {
	h := sha256.New()
	for _, f := range files {
		h.Write([]byte(f.Name))
		h.Write([]byte{0})
		h.Write(f.Content)
		h.Write([]byte{0})
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func (c *lintCache) get(k [sha256.Size]byte) ([]migrate.Finding, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	found, ok := c.found[k]
	return slices.Clone(found), ok
}

func (c *lintCache) put(k [sha256.Size]byte, found []migrate.Finding) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.found == nil || len(c.found) >= lintCacheSize {
		c.found = make(map[[sha256.Size]byte][]migrate.Finding)
	}
	c.found[k] = slices.Clone(found)
}
