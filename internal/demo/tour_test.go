package demo

import "testing"

func TestVersionsReadsAsText(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]int64
		want string
	}{
		{"in version order", map[string]int64{"v3": 548, "v1": 140, "v2": 512}, "v1:140 v2:512 v3:548"},
		{"versions with no response left out", map[string]int64{"v1": 0, "v2": 9}, "v2:9"},
		{"a version beyond the tour's", map[string]int64{"v4": 3, "v2": 1}, "v2:1 v4:3"},
		{"none", nil, ""},
	} {
		if got := versions(tc.in); got != tc.want {
			t.Errorf("%s: versions(%v) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}
