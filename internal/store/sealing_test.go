package store

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/seal"
)

// filesHolding lists the files of the state file (itself, its WAL and shared memory) that
// hold b.
func filesHolding(t *testing.T, path string, b []byte) []string {
	t.Helper()
	var found []string
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		data, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(data, b) {
			found = append(found, filepath.Base(p))
		}
	}
	return found
}

// TestSealedStoreKeepsNoPlainSpec writes a spec holding a secret to a store opened without
// sealing, as an older cutover did, then opens the file sealed: the spec reads back whole,
// new specs are written sealed, and neither the file nor its WAL holds the secret any more,
// whether the store is open or closed.
func TestSealedStoreKeepsNoPlainSpec(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	secret := []byte("tok-at-rest-0a1b2c3d4e")
	// Longer than a page, so that the spec lives in overflow pages, which a write frees.
	spec := []byte(`{"name":"web","run":{"env":{"API_TOKEN":"` + string(secret) + `","PAD":"` +
		strings.Repeat("x", 6000) + `"}}}`)

	plain, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := plain.BeginDeployment(ctx, Service{Name: "web", Spec: spec}, Revision{Spec: spec}, Deployment{}); err != nil {
		t.Fatal(err)
	}
	if found := filesHolding(t, path, secret); len(found) == 0 {
		t.Fatalf("the plain store holds the secret nowhere: the search would find nothing anyway")
	}
	if err := plain.Close(); err != nil {
		t.Fatal(err)
	}

	key, err := seal.NewKey(bytes.Repeat([]byte{42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenSealed(ctx, path, key)
	if err != nil {
		t.Fatalf("OpenSealed of a plain file: %v", err)
	}
	if found := filesHolding(t, path, secret); len(found) > 0 {
		t.Errorf("after sealing on open, %v still hold the secret", found)
	}
	rev, err := s.GetRevision(ctx, "web", 1)
	if err != nil || !bytes.Equal(rev.Spec, spec) {
		t.Fatalf("revision 1 after sealing: %q, %v; want the spec unchanged", rev.Spec, err)
	}
	svc, err := s.GetService(ctx, "web")
	if err != nil || !bytes.Equal(svc.Spec, spec) {
		t.Fatalf("service after sealing: %q, %v; want the spec unchanged", svc.Spec, err)
	}
	if err := s.PutService(ctx, Service{Name: "web", Spec: spec}); err != nil {
		t.Fatal(err)
	}
	if found := filesHolding(t, path, secret); len(found) > 0 {
		t.Errorf("with a new spec written sealed, %v hold the secret", found)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if found := filesHolding(t, path, secret); len(found) > 0 {
		t.Errorf("after close, %v hold the secret", found)
	}
	var raw []byte
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT spec FROM revisions WHERE service = 'web' AND number = 1`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if !seal.IsSealed(raw) {
		t.Errorf("revision 1's stored spec is not sealed: %.80q", raw)
	}
}
