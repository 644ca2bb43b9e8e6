package daemon

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sync"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/store"
)

// sdkTokenPrefix starts every SDK token, so that one is recognisable in a config file or a
// leak scanner and never mistaken for the admin token.
const sdkTokenPrefix = "cutover_sdk_"

var tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// errUnknownToken refuses a token that is neither the admin token nor a live SDK token.
var errUnknownToken = errors.New("unknown token")

// sdkTokens is the flags.TokenChecker of the OFREP endpoints: it admits the admin token and
// every SDK token in the store. It caches the tokens' hashes, so that a check costs a hash and
// a map lookup, and is updated by create and revoke, which take effect at once.
type sdkTokens struct {
	admin *api.Keyring // the control API's tokens, which may evaluate too

	mu     sync.RWMutex
	hashes map[[sha256.Size]byte]string // token hash → name
}

func loadSDKTokens(ctx context.Context, st *store.Store, admin *api.Keyring) (*sdkTokens, error) {
	t := &sdkTokens{admin: admin, hashes: map[[sha256.Size]byte]string{}}
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

// CheckToken implements flags.TokenChecker.
func (t *sdkTokens) CheckToken(_ context.Context, token string) error {
	sum := sha256.Sum256([]byte(token))
	if t.admin.Check(token) {
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

func (t *sdkTokens) add(h [sha256.Size]byte, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.hashes[h] = name
}

func (t *sdkTokens) remove(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for h, n := range t.hashes {
		if n == name {
			delete(t.hashes, h)
		}
	}
}

// CreateSDKToken implements api.FlagsBackend.
func (d *Daemon) CreateSDKToken(ctx context.Context, who, name string) (api.SDKToken, error) {
	if !tokenNameRE.MatchString(name) {
		return api.SDKToken{}, fmt.Errorf("sdk token name %q: want 1-64 letters, digits, '.', '_' or '-': %w", name, api.ErrInvalid)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return api.SDKToken{}, fmt.Errorf("generate sdk token: %w", err)
	}
	secret := sdkTokenPrefix + hex.EncodeToString(buf)
	sum := sha256.Sum256([]byte(secret))
	rec, err := d.store.CreateSDKToken(ctx, store.SDKToken{Name: name, Hash: hex.EncodeToString(sum[:]), CreatedBy: actor(who)})
	if errors.Is(err, store.ErrExists) {
		return api.SDKToken{}, fmt.Errorf("sdk token %s exists: revoke it first: %w", name, api.ErrConflict)
	} else if err != nil {
		return api.SDKToken{}, err
	}
	d.flags.tokens.add(sum, name)
	d.event(ctx, "", 0, "sdk_token_created", fmt.Sprintf("sdk token %s created by %s", name, actor(who)), map[string]any{"name": name, "actor": actor(who)})
	return api.SDKToken{Name: rec.Name, Token: secret, CreatedAt: rec.CreatedAt, CreatedBy: rec.CreatedBy}, nil
}

// SDKTokens implements api.FlagsBackend.
func (d *Daemon) SDKTokens(ctx context.Context) ([]api.SDKToken, error) {
	list, err := d.store.SDKTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.SDKToken, len(list))
	for i, t := range list {
		out[i] = api.SDKToken{Name: t.Name, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy}
	}
	return out, nil
}

// RevokeSDKToken implements api.FlagsBackend: the token stops working before this returns.
func (d *Daemon) RevokeSDKToken(ctx context.Context, who, name string) error {
	err := d.store.DeleteSDKToken(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("sdk token %s: %w", name, api.ErrNotFound)
	} else if err != nil {
		return err
	}
	d.flags.tokens.remove(name)
	d.event(ctx, "", 0, "sdk_token_revoked", fmt.Sprintf("sdk token %s revoked by %s", name, actor(who)), map[string]any{"name": name, "actor": actor(who)})
	return nil
}

// actor names the author of a change for the audit history.
func actor(who string) string {
	if who == "" {
		return "api"
	}
	return who
}
