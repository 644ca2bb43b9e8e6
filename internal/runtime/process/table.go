package process

import "sync"

// table is the driver's shared state: the instances in memory, the ports handed out and
// whether the driver is closed. Its mu is taken only in this file. Lock order: an instance's
// mu may be held while calling table methods, never the other way round.
type table struct {
	mu        sync.Mutex
	instances map[string]*instance
	ports     map[int]string // ports handed out, so two instances never get the same one
	closed    bool
	closing   chan struct{}
	wg        sync.WaitGroup // supervision goroutines
}

func newTable() *table {
	return &table{
		instances: make(map[string]*instance),
		ports:     make(map[int]string),
		closing:   make(chan struct{}),
	}
}

// lookup returns id's instance in memory; when there is none it calls miss, with the table
// locked so that no other caller makes one meanwhile, and keeps what miss returns (unless nil).
// An instance miss returns with a process claims its record's port unless another holds it.
func (t *table) lookup(id string, miss func() (*instance, error)) (*instance, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if inst := t.instances[id]; inst != nil {
		return inst, nil
	}
	inst, err := miss()
	if err != nil || inst == nil {
		return inst, err
	}
	t.instances[id] = inst
	if inst.proc != nil {
		if _, taken := t.ports[inst.rec.Port]; !taken {
			t.ports[inst.rec.Port] = id
		}
	}
	return inst, nil
}

// forget drops inst from memory (it has no record, or its record was deleted).
func (t *table) forget(inst *instance) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.instances[inst.id] == inst {
		delete(t.instances, inst.id)
	}
	if t.ports[inst.rec.Port] == inst.id {
		delete(t.ports, inst.rec.Port)
	}
}

// reservePort records that port belongs to id; it reports false when another instance has it.
func (t *table) reservePort(port int, id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if owner, ok := t.ports[port]; ok && owner != id {
		return false
	}
	t.ports[port] = id
	return true
}

// releasePort forgets that id holds port.
func (t *table) releasePort(port int, id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ports[port] == id {
		delete(t.ports, port)
	}
}

// isClosed reports whether close was called.
func (t *table) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// addSupervisor counts one more supervision goroutine; it reports false once closed.
func (t *table) addSupervisor() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Add(1)
	return true
}

// supervisorDone counts a supervision goroutine out.
func (t *table) supervisorDone() { t.wg.Done() }

// close marks the table closed, wakes every supervisor and waits for them.
func (t *table) close() {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		close(t.closing)
	}
	t.mu.Unlock()
	t.wg.Wait()
}
