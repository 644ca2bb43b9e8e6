package fleet

import "testing"

func TestIsBaseline(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{newInstanceID("web", 3, true), true},
		{newInstanceID("web", 3, false), false},
		{newInstanceID("my-web-b", 12, false), false},
		{"web-3-b0a1b2c", true},
		{"web-3-b0a1b2", false},  // an ordinary ID whose hex starts with b
		{"web-3-bxyzxyz", false}, // not hex
		{"web-3-c0a1b2c", false}, // no b mark
		{"web-b0a1b2c-3-0a1b2c", false},
		{"", false},
	} {
		if got := IsBaseline(tc.id); got != tc.want {
			t.Errorf("IsBaseline(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}
