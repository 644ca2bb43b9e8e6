package api

import (
	"github.com/cutover/cutover/internal/atomicfile"
	"github.com/cutover/cutover/internal/auth"

	"context"
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
	"sync"
	"time"
)

// Keyring holds the control API's bearer tokens: the current one and, for a grace period
// after a rotation, the previous one, both named AdminName; and tokens issued for a while
// under a name of their own (Issue). It is safe for concurrent use.
type Keyring struct {
	mu        sync.RWMutex
	current   string
	sum       [sha256.Size]byte
	previous  [sha256.Size]byte
	prevUntil time.Time // zero: no previous token
	now       func() time.Time
	issued    map[[sha256.Size]byte]string // token hash → name
	named     Directory                    // nil: no named tokens
}

// Directory finds the named API tokens an admin created (auth.Registry).
type Directory interface {
	Lookup(token string) (auth.Token, bool)
}

// AdmitNamed makes the keyring admit the named tokens of dir too, each with its role.
func (k *Keyring) AdmitNamed(dir Directory) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.named = dir
}

// NewKeyring returns a keyring whose current token is token (empty: it admits nothing).
func NewKeyring(token string) *Keyring {
	return &Keyring{current: token, sum: sha256.Sum256([]byte(token)), now: time.Now}
}

// Current returns the current token.
func (k *Keyring) Current() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current
}

// Rotate makes token the current one. The one it replaces is still admitted until grace has
// passed (grace 0: not at all); a token rotated out earlier is forgotten. It returns when the
// previous token stops being admitted.
func (k *Keyring) Rotate(token string, grace time.Duration) time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.previous, k.prevUntil = k.sum, time.Time{}
	now := k.now()
	if grace > 0 {
		k.prevUntil = now.Add(grace)
	}
	k.current, k.sum = token, sha256.Sum256([]byte(token))
	return now.Add(max(grace, 0))
}

// Check reports whether token is the current token, or the previous one within its grace
// period. It compares hashes in constant time and always compares both, so that neither
// the token's length nor which one matched shows in its timing.
func (k *Keyring) Check(token string) bool {
	_, ok := k.identify(token)
	return ok
}

// Caller is who made a request: the name of its token and the token's role.
type Caller struct {
	Name string
	Role auth.Role
}

// identify returns who token is and whether it is admitted (see Check, Issue and
// AdmitNamed): the daemon's own token is AdminName with role admin, a token issued to a hook
// has role deployer, a named token its own role.
func (k *Keyring) identify(token string) (Caller, bool) {
	got := sha256.Sum256([]byte(token))
	k.mu.RLock()
	cur, prev, until, empty := k.sum, k.previous, k.prevUntil, k.current == ""
	name, issued := k.issued[got] // a random token's hash: a map lookup tells nothing useful
	named := k.named
	k.mu.RUnlock()
	isCur := subtle.ConstantTimeCompare(got[:], cur[:])
	isPrev := subtle.ConstantTimeCompare(got[:], prev[:])
	prevOK := !until.IsZero() && k.now().Before(until)
	switch {
	case !empty && (isCur == 1 || (isPrev == 1 && prevOK)):
		return Caller{AdminName, auth.Admin}, true
	case issued:
		return Caller{name, auth.Deployer}, true
	case named != nil && token != "":
		if t, ok := named.Lookup(token); ok {
			return Caller{t.Name, t.Role}, true
		}
	}
	return Caller{}, false
}

// Issue makes a new token, admitted with role deployer under name (the author its requests
// record) until the returned revoke is called: a deployment hook gets one named after it, so
// that what it changes is recorded as the hook's doing. A hook never gets more: a spec is
// written by deployers, and a hook that could create tokens or approve would lift them to admin.
func (k *Keyring) Issue(name string) (token string, revoke func(), err error) {
	if token, err = NewToken(); err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256([]byte(token))
	k.mu.Lock()
	if k.issued == nil {
		k.issued = make(map[[sha256.Size]byte]string)
	}
	k.issued[sum] = name
	k.mu.Unlock()
	return token, func() {
		k.mu.Lock()
		delete(k.issued, sum)
		k.mu.Unlock()
	}, nil
}

// Require wraps next so that it serves only requests bearing one "Authorization: Bearer
// <token>" header with a token Check admits; others (a request with two Authorization headers
// too, which proxies and servers may read differently) get 401 {"error":"unauthorized"} with
// WWW-Authenticate: Bearer, the same answer whatever was wrong. The request next serves
// carries the token's name and role (AdminName and admin, or the name it was issued under)
// for Identity and CallerOf.
func (k *Keyring) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header["Authorization"]
		var scheme, got string
		ok := len(auth) == 1
		if ok {
			scheme, got, ok = strings.Cut(auth[0], " ")
		}
		caller, match := k.identify(strings.TrimSpace(got))
		if !ok || !strings.EqualFold(scheme, "Bearer") || !match {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cutover"`)
			writeJSON(w, http.StatusUnauthorized, ErrorBody{Error: "unauthorized"})
			return
		}
		next.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), caller)))
	})
}

// NewToken returns a new random token: 32 bytes, hex encoded.
func NewToken() (string, error) {
	buf := make([]byte, tokenBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return hex.EncodeToString(buf), nil
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
	if tok, err = NewToken(); err != nil {
		return "", err
	}
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

// AdminName is the name of the control API's token: the author that revisions, deployments,
// flag changes and events record for a request it authenticated.
const AdminName = "admin"

type identityKey struct{}

// Identity returns the name of the token that authenticated the request whose context is ctx,
// "" when none did.
func Identity(ctx context.Context) string {
	return CallerOf(ctx).Name
}

// CallerOf returns who made the request whose context is ctx; the zero Caller when no token
// authenticated it.
func CallerOf(ctx context.Context) Caller {
	c, _ := ctx.Value(identityKey{}).(Caller)
	return c
}

// WithCaller returns ctx carrying c, as Require leaves it for the handlers.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, identityKey{}, c)
}
