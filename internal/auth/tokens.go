package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/atomicfile"
)

// Token is a named API token as the registry keeps it: never the token itself, only its hash.
type Token struct {
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Hash      string    `json:"hash"` // hex SHA-256 of the token
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// Errors the registry returns (wrapped), for callers to branch on.
var (
	ErrExists   = errors.New("a token of that name exists")
	ErrNotFound = errors.New("no token of that name")
	ErrInvalid  = errors.New("invalid token request")
)

// Reserved is the name of the daemon's own token (<state>/token): no named token may take it.
const Reserved = "admin"

// MaxTokens bounds how many named tokens the registry holds.
const MaxTokens = 1000

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Registry holds the named API tokens, in memory for lookups and in a file (mode 0600,
// replaced whole) for the next daemon. A change is written to the file before it takes
// effect, so a kill -9 leaves the old set or the new one. It is safe for concurrent use.
type Registry struct {
	mu     sync.RWMutex
	path   string
	byHash map[string]Token
	now    func() time.Time
}

// Open reads the registry kept at path; a missing file is an empty registry.
func Open(path string) (*Registry, error) {
	r := &Registry{path: path, byHash: map[string]Token{}, now: time.Now}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open api tokens: %w", err)
	}
	var list []Token
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("open api tokens: %s: %w", path, err)
	}
	for _, t := range list {
		r.byHash[t.Hash] = t
	}
	return r, nil
}

// Lookup returns the named token that token is, if any.
func (r *Registry) Lookup(token string) (Token, bool) {
	sum := sha256.Sum256([]byte(token))
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.byHash[hex.EncodeToString(sum[:])]
	return t, ok
}

// Create makes a new token named name with role, recorded as made by by. It returns the
// token, which is not kept and cannot be read back. A bad name or role wraps ErrInvalid, a
// taken name ErrExists.
func (r *Registry) Create(name string, role Role, by string) (string, Token, error) {
	if err := checkName(name); err != nil {
		return "", Token{}, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return "", Token{}, fmt.Errorf("create token %s: %w: %w", name, err, ErrInvalid)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", Token{}, fmt.Errorf("create token %s: %w", name, err)
	}
	secret := hex.EncodeToString(buf)
	sum := sha256.Sum256([]byte(secret))
	t := Token{Name: name, Role: role, Hash: hex.EncodeToString(sum[:]), CreatedAt: r.now().UTC(), CreatedBy: by}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.find(name); ok {
		return "", Token{}, fmt.Errorf("create token %s: %w", name, ErrExists)
	}
	if len(r.byHash) >= MaxTokens {
		return "", Token{}, fmt.Errorf("create token %s: already %d tokens, revoke some first: %w", name, MaxTokens, ErrInvalid)
	}
	next := cloneWith(r.byHash, t)
	if err := r.save(next); err != nil {
		return "", Token{}, fmt.Errorf("create token %s: %w", name, err)
	}
	r.byHash = next
	return secret, t, nil
}

// Revoke removes the token named name: it is refused from now on. An unknown name wraps
// ErrNotFound.
func (r *Registry) Revoke(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.find(name)
	if !ok {
		return fmt.Errorf("revoke token %s: %w", name, ErrNotFound)
	}
	next := cloneWith(r.byHash, Token{})
	delete(next, t.Hash)
	if err := r.save(next); err != nil {
		return fmt.Errorf("revoke token %s: %w", name, err)
	}
	r.byHash = next
	return nil
}

// List returns every named token, ordered by name (hashes included: callers decide what to show).
func (r *Registry) List() []Token {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return sorted(r.byHash)
}

func (r *Registry) find(name string) (Token, bool) {
	for _, t := range r.byHash {
		if t.Name == name {
			return t, true
		}
	}
	return Token{}, false
}

func (r *Registry) save(set map[string]Token) error {
	data, err := json.MarshalIndent(sorted(set), "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(r.path, append(data, '\n'), 0o600)
}

func checkName(name string) error {
	switch {
	case name == Reserved:
		return fmt.Errorf("token name %q: reserved for the daemon's own token: %w", name, ErrInvalid)
	case !namePattern.MatchString(name):
		return fmt.Errorf("token name %q: want 1-63 lowercase letters, digits, '.', '_' or '-', "+
			"starting with a letter or digit: %w", name, ErrInvalid)
	}
	return nil
}

func cloneWith(m map[string]Token, t Token) map[string]Token {
	out := make(map[string]Token, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	if t.Hash != "" {
		out[t.Hash] = t
	}
	return out
}

func sorted(m map[string]Token) []Token {
	out := make([]Token, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
