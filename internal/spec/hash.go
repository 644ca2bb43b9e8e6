package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Hash identifies a spec's content: the first 12 hex digits of the SHA-256 of its JSON encoding,
// which is canonical (fields in declaration order, map keys sorted, durations as strings).
// Equal Services hash equal; hash defaulted Services so that a default spelled out and a
// default left out hash the same.
func Hash(s *Service) string {
	b, err := json.Marshal(s)
	if err != nil {
		// A Service holds only strings, numbers, maps and slices of them: this cannot happen.
		panic("spec: hash: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12]
}
