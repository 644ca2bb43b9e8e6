// Package seal encrypts small values at rest with AES-256-GCM under one key kept in its own
// file in the state directory: the secret env values the state file and the instance records
// hold now, and the values of a secrets store later. It owns the key file and the sealed
// format (a versioned prefix, a random nonce, the ciphertext and its tag); it does not decide
// what is secret, and it never logs or returns a key or a plaintext in an error.
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/cutover/cutover/internal/atomicfile"
)

// KeyFile is the key file's name in the state directory.
const KeyFile = "seal.key"

// keySize is AES-256's key size in bytes.
const keySize = 32

// prefix starts every sealed value: the format's version (1: AES-256-GCM, 12-byte nonce).
var prefix = []byte("cutover-sealed-v1:")

// ErrNotSealed is returned by Open for bytes that are not a sealed value (plain text written
// before sealing was in use, for instance).
var ErrNotSealed = errors.New("value is not sealed")

// Key seals and opens values. It is safe for concurrent use.
type Key struct {
	aead cipher.AEAD
}

// NewKey returns the key made of raw, which must be 32 bytes.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != keySize {
		return nil, fmt.Errorf("seal key: %d bytes, want %d", len(raw), keySize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	return &Key{aead: aead}, nil
}

// LoadOrCreate reads the key in the file at path, creating the file first (32 random bytes,
// hex, mode 0600, written atomically) when there is none. Two processes creating it at once
// end up with the same key. A key file that group or others may read, or that does not hold
// a key, is refused.
func LoadOrCreate(path string) (*Key, error) {
	raw := make([]byte, keySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("create seal key: %w", err)
	}
	err := atomicfile.Create(path, []byte(hex.EncodeToString(raw)+"\n"), 0o600)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create seal key: %w", err)
	}
	return Load(path)
}

// Load reads the key in the file at path. A file that group or others may read, or that
// does not hold a key, is refused.
func Load(path string) (*Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read seal key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("read seal key: %s is mode %04o: group and others must have no access (chmod 600 %s)", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read seal key: %w", err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != keySize {
		return nil, fmt.Errorf("read seal key: %s does not hold a key of %d hex-encoded bytes", path, keySize)
	}
	return NewKey(raw)
}

// Seal encrypts plain for the place named by label (for example "store/spec"), which Open
// must be given again: a value moved to another place does not open there.
func (k *Key) Seal(label string, plain []byte) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("seal: read random nonce: %v", err)) // crypto/rand does not fail on Linux
	}
	out := make([]byte, 0, len(prefix)+len(nonce)+len(plain)+k.aead.Overhead())
	out = append(append(out, prefix...), nonce...)
	return k.aead.Seal(out, nonce, plain, []byte(label))
}

// Open decrypts a value that Seal made with this key and label. It fails with ErrNotSealed
// for bytes that are not a sealed value, and with another error for a value sealed under
// another key or label, or altered.
func (k *Key) Open(label string, sealed []byte) ([]byte, error) {
	if !IsSealed(sealed) {
		return nil, ErrNotSealed
	}
	rest := sealed[len(prefix):]
	n := k.aead.NonceSize()
	if len(rest) < n+k.aead.Overhead() {
		return nil, errors.New("open sealed value: too short")
	}
	plain, err := k.aead.Open(nil, rest[:n], rest[n:], []byte(label))
	if err != nil {
		return nil, fmt.Errorf("open sealed value (%s): wrong key or altered: %w", label, err)
	}
	return plain, nil
}

// IsSealed reports whether b starts like a sealed value.
func IsSealed(b []byte) bool { return bytes.HasPrefix(b, prefix) }

// IsSealed reports whether b starts like a value k (or any key) sealed.
func (k *Key) IsSealed(b []byte) bool { return IsSealed(b) }
