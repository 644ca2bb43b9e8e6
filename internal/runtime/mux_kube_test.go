package runtime_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cutover/cutover/internal/runtime"
)

func TestMuxRoutesKubernetes(t *testing.T) {
	ctx := context.Background()
	for _, asDefault := range []bool{false, true} {
		proc, ctr, kube := newFake("process"), newFake("container"), newFake("kubernetes")
		m := runtime.NewMux(proc, ctr).WithKubernetes(kube, asDefault)
		specs := []runtime.InstanceSpec{{ID: "p1"}, {ID: "c1", Image: "app:1"},
			{ID: "k1", Image: "app:1", Runtime: "kubernetes"}, {ID: "d1", Image: "app:1", Runtime: "docker"}}
		if err := m.Start(ctx, specs); err != nil {
			t.Fatal(err)
		}
		wantCtr, wantKube := []string{"start c1", "start d1"}, []string{"start k1"}
		if asDefault {
			wantCtr, wantKube = []string{"start d1"}, []string{"start c1", "start k1"}
		}
		if got := ctr.called(); !slices.Equal(got, wantCtr) {
			t.Errorf("default=%v: container driver calls %v, want %v", asDefault, got, wantCtr)
		}
		if got := kube.called(); !slices.Equal(got, wantKube) {
			t.Errorf("default=%v: kubernetes driver calls %v, want %v", asDefault, got, wantKube)
		}
		list, err := m.List(ctx)
		if err != nil || len(list) != 4 {
			t.Errorf("default=%v: List = %v, %v; want the 4 instances of all three drivers", asDefault, list, err)
		}
	}
}

func TestMuxWithoutKubernetesStartsNothing(t *testing.T) {
	proc := newFake("process")
	m := runtime.NewMux(proc, newFake("container"))
	err := m.Start(context.Background(), []runtime.InstanceSpec{{ID: "p1"}, {ID: "k1", Image: "app:1", Runtime: "kubernetes"}})
	if !errors.Is(err, runtime.ErrNoKubernetes) {
		t.Fatalf("start with runtime kubernetes and no cluster: %v, want ErrNoKubernetes", err)
	}
	if calls := proc.called(); len(calls) != 0 {
		t.Errorf("process driver calls %v, want none", calls)
	}
}

func TestMuxListWithKubernetesDown(t *testing.T) {
	kube := newFake("kubernetes")
	kube.listErr = errors.New("apiserver unreachable")
	m := runtime.NewMux(newFake("process", "p1"), nil).WithKubernetes(kube, false)
	list, err := m.List(context.Background())
	var ue *runtime.UnavailableError
	if !errors.As(err, &ue) || len(list) != 1 {
		t.Errorf("List with the cluster down: %v, %v; want the process and an UnavailableError", list, err)
	}
}
