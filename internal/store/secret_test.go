package store

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/cutover/cutover/internal/seal"
)

// TestSecretsVersionedAndSealed sets, replaces and unsets secrets: each is a new version,
// the list holds the latest set ones, and no value is in the file's plain bytes.
func TestSecretsVersionedAndSealed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	key, err := seal.NewKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := OpenSealed(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	put := func(name, value string) Secret {
		t.Helper()
		var v []byte
		if value != "" {
			v = []byte(value)
		}
		sec, err := st.PutSecret(ctx, Secret{Service: "web", Name: name, Value: v, CreatedBy: "t"})
		if err != nil {
			t.Fatal(err)
		}
		return sec
	}
	put("API_TOKEN", "first-value-0123")
	if v := put("API_TOKEN", "second-value-4567").Version; v != 2 {
		t.Errorf("version of the second set: got %d, want 2", v)
	}
	put("OLD_KEY", "old-value-89ab")
	put("OLD_KEY", "")
	if _, err := st.PutSecret(ctx, Secret{Service: "api", Name: "API_TOKEN", Value: []byte("other-service-cdef")}); err != nil {
		t.Fatal(err)
	}
	list, err := st.Secrets(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "API_TOKEN" || list[0].Version != 2 || string(list[0].Value) != "second-value-4567" {
		t.Fatalf("secrets of web: got %+v, want API_TOKEN v2 second-value-4567", list)
	}
	for _, v := range []string{"first-value-0123", "second-value-4567", "old-value-89ab", "other-service-cdef"} {
		if found := filesHolding(t, path, []byte(v)); len(found) > 0 {
			t.Errorf("value %s is in the plain bytes of %v", v, found)
		}
	}
	plain, err := Open(ctx, filepath.Join(t.TempDir(), "plain.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.PutSecret(ctx, Secret{Service: "web", Name: "A", Value: []byte("x")}); !errors.Is(err, errNoSealer) {
		t.Errorf("put in a store without a sealer: got %v, want errNoSealer", err)
	}
}
