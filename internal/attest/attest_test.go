package attest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func statement() Statement {
	return Statement{Environment: "staging", Service: "web", Revision: 3, Spec: []byte(`{"name":"web"}`),
		Migrations:  []File{{Name: "0001_a.sql", Content: []byte("-- +cutover expand\nSELECT 1;\n")}},
		SucceededAt: time.Date(2026, 12, 8, 1, 2, 3, 456789, time.UTC)}
}

// TestSignVerify: a statement verifies with the signer's public key only, and any change to
// what it vouches for makes it fail.
func TestSignVerify(t *testing.T) {
	dir := t.TempDir()
	g, err := LoadOrCreate(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreate(filepath.Join(dir, KeyFile))
	if err != nil || again.PublicKey() != g.PublicKey() {
		t.Fatalf("reloaded key %v, %v: want the same key", again, err)
	}
	pub, err := ParsePublicKey(g.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	sig := g.Sign(statement())
	if err := pub.Verify(statement(), sig); err != nil {
		t.Fatalf("genuine statement: %v", err)
	}
	other, err := LoadOrCreate(filepath.Join(t.TempDir(), KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Verify(statement(), other.Sign(statement())); err == nil {
		t.Error("a statement signed by another key verified")
	}
	for name, change := range map[string]func(*Statement){
		"environment": func(s *Statement) { s.Environment = "qa" },
		"service":     func(s *Statement) { s.Service = "api" },
		"revision":    func(s *Statement) { s.Revision = 4 },
		"spec":        func(s *Statement) { s.Spec = []byte(`{"name":"web","replicas":9}`) },
		"migration":   func(s *Statement) { s.Migrations[0].Content = []byte("DROP TABLE users;") },
		"file name":   func(s *Statement) { s.Migrations[0].Name = "0002_a.sql" },
		"no files":    func(s *Statement) { s.Migrations = nil },
		"succeeded":   func(s *Statement) { s.SucceededAt = s.SucceededAt.Add(time.Nanosecond) },
	} {
		s := statement()
		change(&s)
		if err := pub.Verify(s, sig); err == nil {
			t.Errorf("changed %s: verified", name)
		}
	}
	for _, bad := range []string{"", "not base64!", strings.Repeat("A", 88)} {
		if err := pub.Verify(statement(), bad); err == nil {
			t.Errorf("signature %q verified", bad)
		}
	}
}

func TestKeyFileAndTrust(t *testing.T) {
	path := filepath.Join(t.TempDir(), KeyFile)
	if _, err := LoadOrCreate(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v: want 0600", fi.Mode(), err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a key file others may read: %v, want refused", err)
	}
	g, _ := LoadOrCreate(filepath.Join(t.TempDir(), KeyFile))
	name, key, err := ParseTrust("staging=" + g.PublicKey())
	if err != nil || name != "staging" || key.Verify(statement(), g.Sign(statement())) != nil {
		t.Fatalf("ParseTrust: %q, %v", name, err)
	}
	for _, bad := range []string{"staging", "=" + g.PublicKey(), "staging=rsa:AAAA", "staging=ed25519:AAAA"} {
		if _, _, err := ParseTrust(bad); err == nil {
			t.Errorf("ParseTrust(%q) accepted", bad)
		}
	}
}
