package spec

import (
	"regexp"
	"testing"
)

func TestHash(t *testing.T) {
	a := mustParse(t, readTestdata(t, "full.yaml"))
	b := mustParse(t, readTestdata(t, "full.yaml"))
	h := Hash(a)
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(h) {
		t.Fatalf("Hash = %q, want 12 hex digits", h)
	}
	// Maps iterate in random order; the hash must not.
	for range 20 {
		if got := Hash(b); got != h {
			t.Fatalf("Hash of an equal spec = %s, want %s", got, h)
		}
	}
	// The same spec written differently (defaults spelled out, other order) hashes the same.
	out, err := Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if got := Hash(mustParse(t, out)); got != h {
		t.Errorf("Hash(Parse(Marshal(s))) = %s, want %s", got, h)
	}
	b.Run.Env["LOG_LEVEL"] = "info"
	if Hash(b) == h {
		t.Errorf("Hash did not change when an env value changed")
	}
	b = mustParse(t, readTestdata(t, "full.yaml"))
	b.Replicas++
	if Hash(b) == h {
		t.Errorf("Hash did not change when replicas changed")
	}
}
