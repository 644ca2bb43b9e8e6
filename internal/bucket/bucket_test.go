package bucket

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// TestOfGolden pins the function: these values must never change, or users move between
// variants and canary revisions on upgrade.
func TestOfGolden(t *testing.T) {
	cases := []struct {
		salt, key string
		want      uint32
	}{
		{"", "", 3192},
		{"new-checkout", "user-1", 8034},
		{"new-checkout", "user-2", 877},
		{"new-checkout", "user-3", 1240},
		{"dark-mode", "user-1", 9639},
		{"web", "203.0.113.7", 4997},
		{"ab", "c", 5165},
		{"a", "bc", 7297},
		{"ünïcode", "😀", 1644},
		{strings.Repeat("s", 200), strings.Repeat("k", 200), 8625},
	}
	for _, c := range cases {
		if got := Of(c.salt, c.key); got != c.want {
			t.Errorf("Of(%q, %q) = %d, want %d", short(c.salt), short(c.key), got, c.want)
		}
	}
}

func short(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// TestOfMatchesDefinition checks Of against the documented formula, computed another way.
func TestOfMatchesDefinition(t *testing.T) {
	for i := range 1000 {
		salt, key := fmt.Sprintf("flag-%d", i%7), fmt.Sprintf("user-%d", i)
		if i%100 == 0 {
			key = strings.Repeat("x", 300+i) // the heap path
		}
		sum := sha256.Sum256([]byte(salt + "\x00" + key))
		want := uint32(binary.BigEndian.Uint64(sum[:8]) % 10000)
		if got := Of(salt, key); got != want {
			t.Fatalf("Of(%q, key %d) = %d, want %d", salt, i, got, want)
		}
	}
}

func TestOfSeparatesSaltAndKey(t *testing.T) {
	if Of("ab", "c") == Of("a", "bc") {
		t.Errorf("Of(ab, c) == Of(a, bc): salt and key run together")
	}
}

func TestDistribution(t *testing.T) {
	const n = 100000
	var counts [10]int
	for i := range n {
		counts[Of("dist", fmt.Sprintf("user-%d", i))/1000]++
	}
	for d, c := range counts {
		if c < n/10-n/100 || c > n/10+n/100 { // each decile within 1 % of the keys
			t.Errorf("decile %d has %d keys, want %d ± %d", d, c, n/10, n/100)
		}
	}
}

func TestInOnlyGrows(t *testing.T) {
	for i := range 5000 {
		key := fmt.Sprintf("user-%d", i)
		was := false
		for p := 0.0; p <= 100; p += 0.5 {
			now := In("grow", key, p)
			if was && !now {
				t.Fatalf("key %s left the share when it grew to %v%%", key, p)
			}
			was = now
		}
		if !was {
			t.Fatalf("key %s is not in 100%%", key)
		}
	}
}

func TestThreshold(t *testing.T) {
	cases := []struct {
		p    float64
		want uint32
	}{{-1, 0}, {0, 0}, {0.01, 1}, {0.004, 0}, {12.5, 1250}, {33.333, 3333}, {99.99, 9999}, {100, 10000}, {250, 10000}}
	for _, c := range cases {
		if got := Threshold(c.p); got != c.want {
			t.Errorf("Threshold(%v) = %d, want %d", c.p, got, c.want)
		}
	}
}

func TestOfDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { Of("new-checkout", "user-12345") })
	if allocs != 0 {
		t.Errorf("Of allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkOf(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Of("new-checkout", "user-12345")
	}
}
