package api_test

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/api"
)

func TestLoadOrCreateToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "token")
	tok, err := api.LoadOrCreateToken(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if b, err := hex.DecodeString(tok); err != nil || len(b) != 32 {
		t.Errorf("token %q: want 32 hex-encoded bytes", tok)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s mode %#o, want %#o", p, got, want)
		}
	}
	again, err := api.LoadOrCreateToken(path)
	if err != nil || again != tok {
		t.Errorf("second load: %q, %v; want the same token %q", again, err, tok)
	}
	read, err := api.ReadToken(path)
	if err != nil || read != tok {
		t.Errorf("ReadToken: %q, %v; want %q", read, err, tok)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want only the token (no temp files left)", len(entries))
	}
}

func TestReadTokenRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"group readable", write("g", "abc\n", 0o640), "chmod 600"},
		{"world readable", write("o", "abc\n", 0o604), "open to group or others"},
		{"empty", write("e", " \n", 0o600), "is empty"},
	}
	for _, tt := range tests {
		_, err := api.ReadToken(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to contain %q", tt.name, err, tt.want)
		}
		if _, err := api.LoadOrCreateToken(tt.path); err == nil {
			t.Errorf("%s: LoadOrCreateToken accepted it", tt.name)
		}
	}
	_, err := api.ReadToken(filepath.Join(dir, "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v, want fs.ErrNotExist", err)
	}
	if tok, err := api.ReadToken(write("ok", "  abc\n", 0o600)); err != nil || tok != "abc" {
		t.Errorf("ok: %q, %v", tok, err)
	}
}
