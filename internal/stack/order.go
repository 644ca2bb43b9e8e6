package stack

import (
	"slices"
	"strings"
)

// order returns the services so that each comes after those it depends on, ties kept in
// name order. A cycle is an error naming it, at the depends_on entry that closes it.
func order(p *Project) ([]string, error) {
	byName := map[string]*Service{}
	for i := range p.Services {
		byName[p.Services[i].Name] = &p.Services[i]
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	w := &walker{byName: byName, state: map[string]int{}}
	for _, n := range names {
		if err := w.visit(n, nil); err != nil {
			return nil, err
		}
	}
	return w.order, nil
}

const (
	unvisited = iota
	visiting
	visited
)

type walker struct {
	byName map[string]*Service
	state  map[string]int
	path   []string
	order  []string
}

func (w *walker) visit(name string, via *Dependency) error {
	switch w.state[name] {
	case visited:
		return nil
	case visiting:
		i := slices.Index(w.path, name)
		cycle := append(slices.Clone(w.path[i:]), name)
		return fieldError(via.Pos, "services."+w.path[len(w.path)-1]+".depends_on",
			"cycle: %s", strings.Join(cycle, " -> "))
	}
	s, ok := w.byName[name]
	if !ok {
		return nil // not in the project: its absence is reported by validation
	}
	w.state[name] = visiting
	w.path = append(w.path, name)
	deps := slices.Clone(s.DependsOn)
	slices.SortFunc(deps, func(a, b Dependency) int { return strings.Compare(a.Service, b.Service) })
	for i := range deps {
		if err := w.visit(deps[i].Service, &deps[i]); err != nil {
			return err
		}
	}
	w.path = w.path[:len(w.path)-1]
	w.state[name] = visited
	w.order = append(w.order, name)
	return nil
}
