// Package attest lets one environment's daemon vouch that a revision succeeded there, so that
// another environment does not take a client's word for it: staging signs a Statement (the
// service, revision, digests of the exact spec and migration files, when it succeeded) with an
// Ed25519 key kept in its state directory, and production verifies the signature with
// staging's public key, which its operator gave it (serve --trust-environment). It owns the
// key file and the signed format; it does not decide when a promotion is allowed.
package attest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/atomicfile"
)

// KeyFile is the signing key's file name in the state directory.
const KeyFile = "attest.key"

// keyPrefix starts a public key's text form.
const keyPrefix = "ed25519:"

// Statement is what an environment vouches for: a revision of a service, by the digests of
// its spec and migration files, succeeded there at SucceededAt.
type Statement struct {
	Environment string
	Service     string
	Revision    int
	Spec        []byte // the spec exactly as handed out
	Migrations  []File // the migration files exactly as handed out, in order
	SucceededAt time.Time
}

// File is one migration file of a Statement.
type File struct {
	Name    string
	Content []byte
}

// message is the bytes that are signed: a versioned, line-based form with no ambiguity
// (names cannot hold a newline: environments and services are validated names, and file
// names are hashed with their contents).
func (s Statement) message() []byte {
	mig := sha256.New()
	for _, f := range s.Migrations {
		fmt.Fprintf(mig, "%d:%s:%d:", len(f.Name), f.Name, len(f.Content))
		mig.Write(f.Content)
	}
	spec := sha256.Sum256(s.Spec)
	return []byte(strings.Join([]string{
		"cutover-attestation-v1",
		"environment=" + s.Environment,
		"service=" + s.Service,
		"revision=" + strconv.Itoa(s.Revision),
		"spec-sha256=" + hex.EncodeToString(spec[:]),
		"migrations-sha256=" + hex.EncodeToString(mig.Sum(nil)),
		"succeeded-at=" + s.SucceededAt.UTC().Format(time.RFC3339Nano),
	}, "\n"))
}

// Signer signs statements with one environment's private key. It is safe for concurrent use.
type Signer struct {
	key ed25519.PrivateKey
}

// LoadOrCreate reads the signing key in the file at path, creating it first (a random
// Ed25519 seed, hex, mode 0600, written atomically) when there is none. A key file that group
// or others may read, or that holds no key, is refused.
func LoadOrCreate(path string) (*Signer, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("create attestation key: %w", err)
	}
	err := atomicfile.Create(path, []byte(hex.EncodeToString(seed)+"\n"), 0o600)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create attestation key: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read attestation key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("read attestation key: %s is mode %04o: group and others must have no access (chmod 600 %s)", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read attestation key: %w", err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != ed25519.SeedSize {
		return nil, fmt.Errorf("read attestation key: %s does not hold a key of %d hex-encoded bytes", path, ed25519.SeedSize)
	}
	return &Signer{key: ed25519.NewKeyFromSeed(raw)}, nil
}

// Sign returns the signature of s, base64.
func (g *Signer) Sign(s Statement) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(g.key, s.message()))
}

// PublicKey is the text form of the key that verifies this signer's statements:
// "ed25519:" and the key in base64.
func (g *Signer) PublicKey() string {
	return keyPrefix + base64.StdEncoding.EncodeToString(g.key.Public().(ed25519.PublicKey))
}

// PublicKey verifies one environment's statements.
type PublicKey ed25519.PublicKey

// ParsePublicKey reads the text form PublicKey returns.
func ParsePublicKey(text string) (PublicKey, error) {
	b64, ok := strings.CutPrefix(strings.TrimSpace(text), keyPrefix)
	raw, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("attestation key %q: want %s followed by %d base64-encoded bytes (as 'cutover attestation-key' prints it)", text, keyPrefix, ed25519.PublicKeySize)
	}
	return PublicKey(raw), nil
}

// ErrBadSignature is returned by Verify for a signature that does not match the statement.
var ErrBadSignature = errors.New("the attestation does not verify: it was not signed by that environment's key, or what it vouches for was changed")

// Verify checks that sig (base64) is k's signature of s.
func (k PublicKey) Verify(s Statement, sig string) error {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return ErrBadSignature
	}
	if !ed25519.Verify(ed25519.PublicKey(k), s.message(), raw) {
		return ErrBadSignature
	}
	return nil
}

// ParseTrust reads a --trust-environment value, NAME=ed25519:KEY.
func ParseTrust(text string) (string, PublicKey, error) {
	name, key, ok := strings.Cut(text, "=")
	if !ok || name == "" {
		return "", nil, fmt.Errorf("%q: want ENVIRONMENT=ed25519:KEY", text)
	}
	k, err := ParsePublicKey(key)
	if err != nil {
		return "", nil, err
	}
	return name, k, nil
}
