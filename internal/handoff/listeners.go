package handoff

import (
	"fmt"
	"maps"
	"net"
	"os"
	"slices"
	"sync"
)

// Listeners hands out TCP listeners by name: the one inherited under that name when there is
// one, else a new one. It remembers the listeners that are open so that Files can pass them
// on. Safe for concurrent use.
type Listeners struct {
	mu        sync.Mutex
	inherited map[string]*os.File // not claimed yet
	open      map[string]*listener
}

// NewListeners returns a registry with nothing inherited.
func NewListeners() *Listeners {
	return &Listeners{inherited: map[string]*os.File{}, open: map[string]*listener{}}
}

// Listen returns the listener named name: the inherited one (whatever addr says, since the
// process that opened it resolved the same configuration), else a new one on addr. Closing
// the returned listener forgets it. A name that is open already is an error.
func (ls *Listeners) Listen(name, addr string) (net.Listener, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.open[name] != nil {
		return nil, fmt.Errorf("listen %s: already open", name)
	}
	var (
		ln  net.Listener
		err error
	)
	if f := ls.inherited[name]; f != nil {
		delete(ls.inherited, name)
		ln, err = net.FileListener(f) // a dup: the inherited descriptor is not needed after
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("listen %s: inherited descriptor: %w", name, err)
		}
	} else if ln, err = net.Listen("tcp", addr); err != nil {
		return nil, fmt.Errorf("listen %s: %w", name, err)
	}
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		ln.Close()
		return nil, fmt.Errorf("listen %s: inherited descriptor is not a TCP listener", name)
	}
	l := &listener{TCPListener: tl, name: name, ls: ls}
	ls.open[name] = l
	return l, nil
}

// Files returns a duplicate of each open listener's descriptor, sorted by name, for a
// successor process. The caller closes them.
func (ls *Listeners) Files() ([]NamedFile, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	out := make([]NamedFile, 0, len(ls.open))
	for _, name := range slices.Sorted(maps.Keys(ls.open)) {
		f, err := ls.open[name].File()
		if err != nil {
			CloseFiles(out)
			return nil, fmt.Errorf("duplicate listener %s: %w", name, err)
		}
		out = append(out, NamedFile{Name: name, File: f})
	}
	return out, nil
}

// CloseUnclaimed closes the inherited listeners nobody asked for (a route removed before the
// restart) and returns their names.
func (ls *Listeners) CloseUnclaimed() []string {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	var names []string
	for name, f := range ls.inherited {
		f.Close()
		names = append(names, name)
	}
	clear(ls.inherited)
	slices.Sort(names)
	return names
}

func (ls *Listeners) forget(l *listener) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.open[l.name] == l {
		delete(ls.open, l.name)
	}
}

// listener is an open listener that leaves the registry when closed.
type listener struct {
	*net.TCPListener
	name string
	ls   *Listeners
}

func (l *listener) Close() error {
	l.ls.forget(l)
	return l.TCPListener.Close()
}
