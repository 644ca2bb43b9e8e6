package cluster

import (
	"reflect"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/kubestate"
	"github.com/cutover/cutover/internal/runtime"
)

func TestGroupsWeighReadyInstancesByRevisionBaselineApart(t *testing.T) {
	ps := []pod{
		{Status: runtime.Status{ID: "web-1-aaaaaa", Service: "web", Revision: 1, Addr: "10.0.0.1:80"}, Ready: true},
		{Status: runtime.Status{ID: "web-1-baaaaaa", Service: "web", Revision: 1, Addr: "10.0.0.2:80"}, Ready: true, Baseline: true},
		{Status: runtime.Status{ID: "web-2-cccccc", Service: "web", Revision: 2, Addr: "10.0.0.3:80"}, Ready: true},
		{Status: runtime.Status{ID: "web-2-dddddd", Service: "web", Revision: 2, Addr: "10.0.0.4:80"}},
		{Status: runtime.Status{ID: "api-1-eeeeee", Service: "api", Revision: 1, Addr: "10.0.0.5:80"}, Ready: true},
	}
	d := desired{Weights: map[int]int{1: 80, -1: 10, 2: 10}, From: 1, To: 2}
	got := groups(d, ps, "web")
	want := []kubestate.Group{
		{Revision: -1, Weight: 10, Role: "baseline", Targets: []kubestate.Target{{ID: "web-1-baaaaaa", Addr: "10.0.0.2:80"}}},
		{Revision: 1, Weight: 80, Role: "stable", Targets: []kubestate.Target{{ID: "web-1-aaaaaa", Addr: "10.0.0.1:80"}}},
		{Revision: 2, Weight: 10, Role: "canary", Targets: []kubestate.Target{{ID: "web-2-cccccc", Addr: "10.0.0.3:80"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("groups = %+v\nwant %+v", got, want)
	}
	// No weights: each revision by its number of ready instances.
	if g := groups(desired{}, ps, "web"); g[1].Weight != 1 || g[2].Weight != 1 {
		t.Fatalf("unweighted groups %+v", g)
	}
}

func TestAppliedWaitsForLiveProxiesOnly(t *testing.T) {
	now := time.Now()
	reps := []kubestate.Report{{Replica: "a", Generation: 5, At: now}, {Replica: "dead", Generation: 2, At: now.Add(-time.Minute)}}
	if !applied(reps, 5, 5*time.Second) {
		t.Fatal("a stale report held the stop back")
	}
	reps = append(reps, kubestate.Report{Replica: "b", Generation: 4, At: now})
	if applied(reps, 5, 5*time.Second) {
		t.Fatal("a live proxy behind the generation was not waited for")
	}
}
