package gateway

import (
	"reflect"
	"testing"
)

func TestBackends(t *testing.T) {
	for _, tc := range []struct {
		name   string
		shares map[int]int
		want   []Backend
	}{
		{"none", nil, nil},
		{"stable", map[int]int{3: 100}, []Backend{{3, "web-r3", 100}}},
		{"canary", map[int]int{4: 10, 3: 90}, []Backend{{3, "web-r3", 90}, {4, "web-r4", 10}}},
		{"baseline merged", map[int]int{3: 80, -3: 10, 4: 10}, []Backend{{3, "web-r3", 90}, {4, "web-r4", 10}}},
		{"zero left out", map[int]int{3: 100, 4: 0}, []Backend{{3, "web-r3", 100}}},
	} {
		if got := Backends("web", tc.shares); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Backends = %v, want %v", tc.name, got, tc.want)
		}
	}
}
