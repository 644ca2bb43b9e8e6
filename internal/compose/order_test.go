package compose

import (
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/google/go-cmp/cmp"
)

func TestLoadOrdersByDependency(t *testing.T) {
	tests := []struct {
		services []string
		want     []string
	}{
		{nil, []string{"c", "b", "a", "d"}},
		{[]string{"a"}, []string{"a"}},
		{[]string{"a", "c"}, []string{"c", "a"}},
		{[]string{"d", "b", "a"}, []string{"b", "a", "d"}},
	}
	for _, tt := range tests {
		p := load(t, []string{"testdata/order/chain.yaml"}, tt.services, Options{})
		var got []string
		for _, imp := range p.Services {
			got = append(got, imp.Spec.Name)
		}
		if diff := cmp.Diff(got, tt.want); diff != "" {
			t.Errorf("order of %v (-got +want):\n%s", tt.services, diff)
		}
	}
	p := load(t, []string{"testdata/order/chain.yaml"}, []string{"a", "b"}, Options{})
	want := [][]Dependency{
		{{Service: "c", Condition: ConditionHealthy}},
		{{Service: "b", Condition: ConditionStarted}},
	}
	for i, imp := range p.Services {
		if diff := cmp.Diff(imp.DependsOn, want[i]); diff != "" {
			t.Errorf("%s depends_on (-got +want):\n%s", imp.Spec.Name, diff)
		}
	}
}

// compose-go refuses cycles itself; dependencyOrder must not loop on one either.
func TestDependencyOrderCycle(t *testing.T) {
	dep := func(names ...string) types.DependsOnConfig {
		c := types.DependsOnConfig{}
		for _, n := range names {
			c[n] = types.ServiceDependency{Condition: ConditionStarted}
		}
		return c
	}
	svc := func(name string, deps ...string) types.ServiceConfig {
		s := types.ServiceConfig{Name: name}
		s.DependsOn = dep(deps...)
		return s
	}
	p := &types.Project{Services: types.Services{
		"a": svc("a", "b"), "b": svc("b", "c"), "c": svc("c", "a"), "d": svc("d"),
	}}
	_, err := dependencyOrder(p, []string{"d", "a"})
	if err == nil || !strings.Contains(err.Error(), "depends_on cycle: a -> b -> c -> a") {
		t.Errorf("dependencyOrder error = %v, want the cycle a -> b -> c -> a", err)
	}
	got, err := dependencyOrder(p, []string{"d"})
	if err != nil || !cmp.Equal(got, []string{"d"}) {
		t.Errorf("dependencyOrder(d) = %v, %v; want [d] (the cycle is not reachable)", got, err)
	}
}
