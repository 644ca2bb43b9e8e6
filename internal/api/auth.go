package api

import (
	"github.com/cutover/cutover/internal/atomicfile"

	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// RequireToken wraps next so that it serves only requests bearing
// "Authorization: Bearer <token>"; others get 401 {"error":"unauthorized"} with
// WWW-Authenticate: Bearer. The comparison is in constant time
// (of hashes, so the token's length does not leak either), and a refusal never says what
// was wrong. An empty token refuses everything.
func RequireToken(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		gotSum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		match := subtle.ConstantTimeCompare(gotSum[:], want[:]) == 1
		if !ok || !strings.EqualFold(scheme, "Bearer") || !match || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cutover"`)
			writeJSON(w, http.StatusUnauthorized, ErrorBody{Error: "unauthorized"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tokenBytes is the size of a generated token before hex encoding.
const tokenBytes = 32

// LoadOrCreateToken returns the token stored at path, creating it first when the file does
// not exist: 32 random bytes, hex encoded, in a file of mode 0600 (its directory, when
// created, 0700). Creation is atomic and never replaces a file another process wrote first.
// Like ReadToken, it refuses a file that group or others may access.
func LoadOrCreateToken(path string) (string, error) {
	tok, err := ReadToken(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return tok, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create token directory: %w", err)
	}
	buf := make([]byte, tokenBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	tok = hex.EncodeToString(buf)
	if err := atomicfile.Create(path, []byte(tok+"\n"), 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ReadToken(path) // another process won the race; use its token
		}
		return "", fmt.Errorf("create token %s: %w", path, err)
	}
	return tok, nil
}

// ReadToken returns the token stored at path, without surrounding white space. It refuses a
// file that group or others may read or write, and an empty one. A missing file is an error
// wrapping fs.ErrNotExist.
func ReadToken(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("read token: %s has mode %#o, open to group or others; "+
			"it must be private to its owner: chmod 600 %s", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return "", fmt.Errorf("read token: %s is empty", path)
	}
	return tok, nil
}
