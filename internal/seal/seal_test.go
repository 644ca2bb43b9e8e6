package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k, err := LoadOrCreate(filepath.Join(t.TempDir(), KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"API_TOKEN":"tok-123456"}`)
	a, b := k.Seal("store/spec", plain), k.Seal("store/spec", plain)
	if bytes.Contains(a, []byte("tok-123456")) || !IsSealed(a) {
		t.Fatalf("sealed value %q shows the plaintext or lacks the prefix", a)
	}
	if bytes.Equal(a, b) {
		t.Errorf("two seals of one value are equal: the nonce is not random")
	}
	got, err := k.Open("store/spec", a)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v; want %q", got, err, plain)
	}
	if _, err := k.Open("process/env", a); err == nil {
		t.Errorf("a value opened under another label")
	}
	other, _ := NewKey(bytes.Repeat([]byte{7}, keySize))
	if _, err := other.Open("store/spec", a); err == nil {
		t.Errorf("a value opened under another key")
	}
	a[len(a)-1] ^= 1
	if _, err := k.Open("store/spec", a); err == nil {
		t.Errorf("an altered value opened")
	}
	if _, err := k.Open("store/spec", plain); !errors.Is(err, ErrNotSealed) {
		t.Errorf("Open of plain text: %v, want ErrNotSealed", err)
	}
}

func TestLoadOrCreateKeepsTheKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), KeyFile)
	k1, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, fi.Mode())
	}
	k2, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k2.Open("x", k1.Seal("x", []byte("value")))
	if err != nil || string(got) != "value" {
		t.Errorf("the key changed between two starts: %q, %v", got, err)
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.key")
	if _, err := LoadOrCreate(open); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(open); err == nil {
		t.Errorf("a key file readable by others was accepted")
	}
	short := filepath.Join(dir, "short.key")
	if err := os.WriteFile(short, []byte("abcd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(short); err == nil {
		t.Errorf("a key file without a key was accepted")
	}
}
