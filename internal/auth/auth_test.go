package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAllows(t *testing.T) {
	want := map[Role][]Role{
		Admin:    {Admin, Deployer, Approver, Viewer},
		Deployer: {Deployer, Viewer},
		Approver: {Approver, Viewer},
		Viewer:   {Viewer},
		"":       {},
	}
	for have, allowed := range want {
		for _, need := range Roles() {
			got := have.Allows(need)
			exp := false
			for _, a := range allowed {
				exp = exp || a == need
			}
			if got != exp {
				t.Errorf("%q.Allows(%q) = %v, want %v", have, need, got, exp)
			}
		}
	}
}

func TestRegistryCreateLookupRevokeSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api-tokens.json")
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	secret, tok, err := r.Create("ci", Deployer, "admin")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), secret) {
		t.Fatalf("the token file holds the token itself: %s", data)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, want 0600", info.Mode().Perm())
	}
	r2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := r2.Lookup(secret)
	if !ok || got.Name != "ci" || got.Role != Deployer || got.Hash != tok.Hash {
		t.Fatalf("reopened lookup = %+v, %v; want ci deployer", got, ok)
	}
	if _, ok := r2.Lookup(secret + "x"); ok {
		t.Fatal("a different token was admitted")
	}
	if _, _, err := r2.Create("ci", Viewer, "admin"); !errors.Is(err, ErrExists) {
		t.Fatalf("second ci: %v, want ErrExists", err)
	}
	if err := r2.Revoke("ci"); err != nil {
		t.Fatal(err)
	}
	if _, ok := r2.Lookup(secret); ok {
		t.Fatal("revoked token still admitted")
	}
	r3, _ := Open(path)
	if _, ok := r3.Lookup(secret); ok {
		t.Fatal("revoked token admitted after reopen")
	}
	if err := r3.Revoke("ci"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke again: %v, want ErrNotFound", err)
	}
}

func TestRegistryRefusesBadInput(t *testing.T) {
	r, _ := Open(filepath.Join(t.TempDir(), "t.json"))
	for _, c := range []struct{ name, role string }{
		{"admin", "viewer"}, {"", "viewer"}, {"Bad Name", "viewer"}, {"ok", "root"}, {strings.Repeat("a", 64), "viewer"},
	} {
		if _, _, err := r.Create(c.name, Role(c.role), "admin"); !errors.Is(err, ErrInvalid) {
			t.Errorf("Create(%q, %q) = %v, want ErrInvalid", c.name, c.role, err)
		}
	}
	if len(r.List()) != 0 {
		t.Fatalf("refused requests left tokens: %v", r.List())
	}
}

func TestRegistryUnwritableFileChangesNothing(t *testing.T) {
	dir := t.TempDir()
	r, _ := Open(filepath.Join(dir, "missing", "t.json"))
	if _, _, err := r.Create("ci", Viewer, "admin"); err == nil {
		t.Fatal("create with an unwritable file succeeded")
	}
	if len(r.List()) != 0 {
		t.Fatal("a token that was not written is admitted")
	}
}
