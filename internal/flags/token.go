package flags

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// ErrForbidden is returned by a TokenChecker for a valid token that may not evaluate flags;
// the OFREP handler answers 403 to it and 401 to any other error.
var ErrForbidden = errors.New("forbidden")

// TokenChecker decides whether an SDK token may evaluate flags. It returns nil to allow,
// an error wrapping ErrForbidden for a known token without the right, anything else to
// refuse as unauthenticated. It must be safe for concurrent use.
type TokenChecker interface {
	CheckToken(ctx context.Context, token string) error
}

// StaticTokens is a TokenChecker that accepts a fixed set of tokens, compared in constant time.
type StaticTokens struct {
	sums [][sha256.Size]byte
}

// NewStaticTokens returns a checker accepting exactly the given non-empty tokens.
func NewStaticTokens(tokens ...string) *StaticTokens {
	s := &StaticTokens{}
	for _, t := range tokens {
		if t != "" {
			s.sums = append(s.sums, sha256.Sum256([]byte(t)))
		}
	}
	return s
}

// errUnauthorized is what StaticTokens returns for an unknown token.
var errUnauthorized = errors.New("unauthorized")

// CheckToken implements TokenChecker.
func (s *StaticTokens) CheckToken(_ context.Context, token string) error {
	got := sha256.Sum256([]byte(token))
	ok := 0
	for _, want := range s.sums {
		ok |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	if ok == 1 && token != "" {
		return nil
	}
	return errUnauthorized
}

// requestToken returns the token of r and whether it came from the query: one
// "Authorization: Bearer <t>" (OFREP's BearerAuth), one "X-API-Key: <t>" (its ApiKeyAuth) or,
// when allowQuery, the query parameter token (for EventSource clients that cannot set
// headers). A request with two Authorization or two X-API-Key headers, which other parsers
// may read differently, has no token.
func requestToken(r *http.Request, allowQuery bool) (token string, inQuery bool) {
	auth, keys := r.Header["Authorization"], r.Header["X-Api-Key"]
	if len(auth) > 1 || len(keys) > 1 {
		return "", false
	}
	if len(auth) == 1 {
		if scheme, tok, ok := strings.Cut(auth[0], " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), false
		}
	}
	if len(keys) == 1 && keys[0] != "" {
		return keys[0], false
	}
	if allowQuery {
		return r.URL.Query().Get("token"), true
	}
	return "", false
}
