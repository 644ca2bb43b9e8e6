package kubestate

import (
	"reflect"
	"testing"

	"github.com/cutover/cutover/internal/analysis"
)

func TestSumAddsEveryReplicasCountsWithoutTouchingThem(t *testing.T) {
	a := Report{Replica: "a", Counts: map[string]map[int]analysis.Counts{"web": {
		1: {Requests: 10, Errors: 1, Latency: []int64{1, 2, 3}, Endpoints: map[string]analysis.Counts{"api": {Requests: 4}}},
		2: {Requests: 5},
	}}}
	b := Report{Replica: "b", Counts: map[string]map[int]analysis.Counts{
		"web":   {1: {Requests: 7, Errors: 2, Latency: []int64{1, 1, 1}, Endpoints: map[string]analysis.Counts{"api": {Requests: 1, Errors: 1}}}},
		"other": {1: {Requests: 100}},
	}}
	got := Sum([]Report{a, b}, "web")
	want := map[int]analysis.Counts{
		1: {Requests: 17, Errors: 3, Latency: []int64{2, 3, 4}, Endpoints: map[string]analysis.Counts{"api": {Requests: 5, Errors: 1}}},
		2: {Requests: 5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Sum = %+v, want %+v", got, want)
	}
	if a.Counts["web"][1].Latency[0] != 1 || b.Counts["web"][1].Latency[0] != 1 {
		t.Fatal("Sum changed a report's histogram")
	}
	// A histogram of another length is left out rather than misread.
	c := Report{Counts: map[string]map[int]analysis.Counts{"web": {1: {Requests: 1, Latency: []int64{9}}}}}
	if h := Sum([]Report{a, c}, "web")[1].Latency; !reflect.DeepEqual(h, []int64{1, 2, 3}) {
		t.Fatalf("histogram with a foreign length: %v", h)
	}
}
