package flags

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"
)

// SDKTokenPrefix starts every SDK token, so that one is recognisable in a config file or a
// leak scanner and never mistaken for the admin token.
const SDKTokenPrefix = "cutover_sdk_"

var tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// errUnknownToken refuses a token that is neither an admin token nor a live SDK token.
var errUnknownToken = errors.New("unknown token")

// SDKToken is a named token that may only evaluate flags. Token, the secret, is set only in
// the answer that creates it.
type SDKToken struct {
	Name      string
	Token     string
	CreatedAt time.Time
	CreatedBy string
}

// StoredToken is an SDK token as stored: its hash (hex SHA-256), never the token itself.
type StoredToken struct {
	Name      string
	Hash      string
	CreatedAt time.Time // zero: the store sets it
	CreatedBy string
}

// TokenStore persists SDK tokens. It must be safe for concurrent use.
type TokenStore interface {
	// SDKTokens returns every SDK token, ordered by name.
	SDKTokens(ctx context.Context) ([]StoredToken, error)
	// CreateSDKToken stores t and returns it as stored, or false and changes nothing when
	// the name is taken.
	CreateSDKToken(ctx context.Context, t StoredToken) (StoredToken, bool, error)
	// DeleteSDKToken removes the token named name, or returns false when there is none.
	DeleteSDKToken(ctx context.Context, name string) (bool, error)
}

// AdminTokens admits the control API's tokens, which may evaluate flags too.
type AdminTokens interface {
	Check(token string) bool
}

// SDKTokens is the TokenChecker of the OFREP endpoints: it admits the admin tokens and every
// SDK token in its TokenStore. It caches the tokens' hashes, so that a check costs a hash and
// a map lookup; Create and Revoke take effect at once. It is safe for concurrent use.
type SDKTokens struct {
	store TokenStore
	admin AdminTokens
	event EventFunc

	mu     sync.RWMutex
	hashes map[[sha256.Size]byte]string // token hash → name
}

// LoadSDKTokens reads the tokens of st. admin and event may be nil.
func LoadSDKTokens(ctx context.Context, st TokenStore, admin AdminTokens, event EventFunc) (*SDKTokens, error) {
	if event == nil {
		event = func(context.Context, string, string, map[string]any) {}
	}
	t := &SDKTokens{store: st, admin: admin, event: event, hashes: map[[sha256.Size]byte]string{}}
	list, err := st.SDKTokens(ctx)
	if err != nil {
		return nil, err
	}
	for _, tok := range list {
		var h [sha256.Size]byte
		if n, err := hex.Decode(h[:], []byte(tok.Hash)); err != nil || n != sha256.Size {
			return nil, fmt.Errorf("load sdk token %s: bad hash in store", tok.Name)
		}
		t.hashes[h] = tok.Name
	}
	return t, nil
}

// CheckToken implements TokenChecker.
func (t *SDKTokens) CheckToken(_ context.Context, token string) error {
	sum := sha256.Sum256([]byte(token))
	if t.admin != nil && t.admin.Check(token) {
		return nil
	}
	t.mu.RLock()
	_, ok := t.hashes[sum]
	t.mu.RUnlock()
	if !ok {
		return errUnknownToken
	}
	return nil
}

// SDKOnly returns the TokenChecker of the SDK tokens alone, never an admin token: for a
// token sent in a URL (OFREPOptions.QueryTokens), which ends up in logs and browser history.
func (t *SDKTokens) SDKOnly() TokenChecker { return sdkOnly{t} }

type sdkOnly struct{ t *SDKTokens }

func (s sdkOnly) CheckToken(_ context.Context, token string) error {
	sum := sha256.Sum256([]byte(token))
	s.t.mu.RLock()
	_, ok := s.t.hashes[sum]
	s.t.mu.RUnlock()
	if !ok {
		return errUnknownToken
	}
	return nil
}

// Create makes a token named name on behalf of actor; the answer is the only time its secret
// is shown. A bad name wraps ErrBadRequest, a taken one ErrConflict.
func (t *SDKTokens) Create(ctx context.Context, actor, name string) (SDKToken, error) {
	if !tokenNameRE.MatchString(name) {
		return SDKToken{}, fmt.Errorf("sdk token name %q: want 1-64 letters, digits, '.', '_' or '-': %w", name, ErrBadRequest)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return SDKToken{}, fmt.Errorf("generate sdk token: %w", err)
	}
	secret := SDKTokenPrefix + hex.EncodeToString(buf)
	sum := sha256.Sum256([]byte(secret))
	rec, ok, err := t.store.CreateSDKToken(ctx, StoredToken{Name: name, Hash: hex.EncodeToString(sum[:]), CreatedBy: actor})
	if err != nil {
		return SDKToken{}, err
	} else if !ok {
		return SDKToken{}, fmt.Errorf("sdk token %s exists: revoke it first: %w", name, ErrConflict)
	}
	t.mu.Lock()
	t.hashes[sum] = name
	t.mu.Unlock()
	t.event(ctx, "sdk_token_created", fmt.Sprintf("sdk token %s created by %s", name, actor), map[string]any{"name": name, "actor": actor})
	return SDKToken{Name: rec.Name, Token: secret, CreatedAt: rec.CreatedAt, CreatedBy: rec.CreatedBy}, nil
}

// List returns every SDK token, without its secret, ordered by name.
func (t *SDKTokens) List(ctx context.Context) ([]SDKToken, error) {
	list, err := t.store.SDKTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SDKToken, len(list))
	for i, s := range list {
		out[i] = SDKToken{Name: s.Name, CreatedAt: s.CreatedAt, CreatedBy: s.CreatedBy}
	}
	return out, nil
}

// Revoke deletes the token named name on behalf of actor: it stops working before Revoke
// returns. An unknown name wraps ErrNotFound.
func (t *SDKTokens) Revoke(ctx context.Context, actor, name string) error {
	ok, err := t.store.DeleteSDKToken(ctx, name)
	if err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("sdk token %s: %w", name, ErrNotFound)
	}
	t.mu.Lock()
	for h, n := range t.hashes {
		if n == name {
			delete(t.hashes, h)
		}
	}
	t.mu.Unlock()
	t.event(ctx, "sdk_token_revoked", fmt.Sprintf("sdk token %s revoked by %s", name, actor), map[string]any{"name": name, "actor": actor})
	return nil
}
