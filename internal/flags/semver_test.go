package flags

import "testing"

func TestCompareVersions(t *testing.T) {
	// Each list is in ascending precedence (semver.org's example plus a few more).
	order := []string{
		"0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
		"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2", "v1.10.0", "2",
	}
	for i := range order {
		for j := range order {
			a, okA := parseVersion(order[i])
			b, okB := parseVersion(order[j])
			if !okA || !okB {
				t.Fatalf("parse %q or %q failed", order[i], order[j])
			}
			want := cmpUint(uint64(i), uint64(j))
			if got := compareVersions(a, b); got != want {
				t.Errorf("compare(%q, %q) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	same := [][2]string{{"1.2.3+build.1", "1.2.3"}, {"1.2", "1.2.0"}, {"V3", "3.0.0"}}
	for _, p := range same {
		a, _ := parseVersion(p[0])
		b, _ := parseVersion(p[1])
		if got := compareVersions(a, b); got != 0 {
			t.Errorf("compare(%q, %q) = %d, want 0", p[0], p[1], got)
		}
	}
}

func TestParseVersionRejects(t *testing.T) {
	for _, s := range []string{"", "v", "1.", "1..2", "1.2.3.4", "a.b.c", "1.2.3-", "1.x", "-1.0.0", "1.2.3 "} {
		if _, ok := parseVersion(s); ok {
			t.Errorf("parseVersion(%q) accepted it", s)
		}
	}
}
