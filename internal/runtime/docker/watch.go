package docker

import (
	"sync"
	"time"
)

// watch is what the driver remembers between calls: the restarts seen per instance (for
// crash_loop), the instances whose Stop is under way, and whether the driver is closed. Its
// mu is taken only in this file.
type watch struct {
	mu       sync.Mutex
	history  map[string]restartHistory
	stopping map[string]bool
	closed   bool
}

func newWatch() *watch {
	return &watch{history: make(map[string]restartHistory), stopping: make(map[string]bool)}
}

// observe adds obs to id's restart history and returns the history and whether id's Stop is
// under way.
func (w *watch) observe(id string, opts Options, obs restartObservation, now time.Time) (restartHistory, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h := w.history[id].observe(opts, obs, now)
	w.history[id] = h
	return h, w.stopping[id]
}

// forget drops what was seen of id's restarts (a new container).
func (w *watch) forget(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.history, id)
}

// markStopping reports id as stopping until the returned func is called.
func (w *watch) markStopping(id string) func() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopping[id] = true
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.stopping, id)
	}
}

// close marks the driver closed.
func (w *watch) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

// isClosed reports whether close was called.
func (w *watch) isClosed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}
