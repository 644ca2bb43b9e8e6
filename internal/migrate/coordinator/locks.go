package coordinator

import (
	"maps"
	"sync"
)

// locks is the coordinator's state: a lock per service that orders expand, contract and
// down runs against the start of a deployment's instances, and the services whose contract
// parts wait for their old revisions to be gone. Only this file takes mu.
type locks struct {
	mu      sync.Mutex
	locks   map[string]*sync.Mutex
	pending map[string]contractMark
}

// contractMark says that service's stable revision rev, made stable by deployment, has
// contract parts to run once every running revision carries them.
type contractMark struct {
	rev        int
	deployment int64
}

// lock takes service's migration lock and returns its release.
func (m *locks) lock(service string) func() {
	m.mu.Lock()
	if m.locks == nil {
		m.locks = map[string]*sync.Mutex{}
	}
	l := m.locks[service]
	if l == nil {
		l = &sync.Mutex{}
		m.locks[service] = l
	}
	m.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (m *locks) mark(service string, c contractMark) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pending == nil {
		m.pending = map[string]contractMark{}
	}
	m.pending[service] = c
}

func (m *locks) unmark(service string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pending, service)
}

func (m *locks) marked() map[string]contractMark {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.pending)
}
