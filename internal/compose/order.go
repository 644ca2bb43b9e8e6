package compose

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// dependencyOrder returns the selected services (all when names is empty) so that each comes
// after the services it depends on, ties broken by name. Dependencies outside the selection
// are followed to find cycles but not returned. A cycle is an error naming it.
func dependencyOrder(p *types.Project, names []string) ([]string, error) {
	selected := map[string]bool{}
	for _, n := range names {
		selected[n] = true
	}
	if len(names) == 0 {
		for n := range p.Services {
			selected[n] = true
		}
	}
	w := walker{p: p, selected: selected, state: map[string]int{}}
	for _, n := range slices.Sorted(maps.Keys(selected)) {
		if err := w.visit(n); err != nil {
			return nil, err
		}
	}
	return w.order, nil
}

// Visit states of a service in walker.state.
const (
	unvisited = iota
	visiting  // on the current path: reaching it again is a cycle
	visited
)

type walker struct {
	p        *types.Project
	selected map[string]bool
	state    map[string]int
	path     []string
	order    []string
}

func (w *walker) visit(name string) error {
	switch w.state[name] {
	case visited:
		return nil
	case visiting:
		i := slices.Index(w.path, name)
		cycle := append(slices.Clone(w.path[i:]), name)
		return fmt.Errorf("depends_on cycle: %s", strings.Join(cycle, " -> "))
	}
	svc, ok := w.p.Services[name]
	if !ok {
		return nil // not in the project (a profile turned it off): nothing to order
	}
	w.state[name] = visiting
	w.path = append(w.path, name)
	for _, dep := range slices.Sorted(maps.Keys(svc.DependsOn)) {
		if err := w.visit(dep); err != nil {
			return err
		}
	}
	w.path = w.path[:len(w.path)-1]
	w.state[name] = visited
	if w.selected[name] {
		w.order = append(w.order, name)
	}
	return nil
}
