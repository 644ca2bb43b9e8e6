// Package bucket assigns a key to one of 10,000 stable buckets. It is the single consistent
// hash cutover uses wherever a user must land on the same side every time: percentage splits
// and progressive rollouts of feature flags, and sticky canary assignment in the proxy.
//
// The function is fixed forever, because changing it would move users between variants and
// revisions on upgrade:
//
//	digest = SHA-256(salt || 0x00 || key)
//	bucket = uint64(digest[0:8] read big-endian) mod 10000
//
// The zero byte keeps ("ab", "c") and ("a", "bc") apart. Bucket b belongs to a share of p
// percent exactly when b < p*100, so raising p only adds buckets: a key moves one way. The
// modulo bias is below 1e-15 and ignored. SHA-256 was chosen over faster non-cryptographic
// hashes because anyone can reproduce a bucket with standard tools, in any language, e.g.
//
//	printf 'new-checkout\0user-1' | sha256sum   # 8034: first 16 hex digits as a number, mod 10000
//
// The package must not change the function, add state, or import anything outside the
// standard library.
package bucket

import (
	"crypto/sha256"
	"encoding/binary"
)

// Count is the number of buckets: Of returns values in [0, Count). One bucket is 0.01 %.
const Count = 10000

// stackInput is the longest salt+key that is hashed without a heap allocation.
const stackInput = 256

// Of returns the bucket of key under salt, in [0, Count). It is pure, safe for concurrent use
// and does not allocate when len(salt)+len(key) < 256.
func Of(salt, key string) uint32 {
	var sum [sha256.Size]byte
	if n := len(salt) + 1 + len(key); n <= stackInput {
		var buf [stackInput]byte
		b := append(buf[:0], salt...)
		b = append(b, 0)
		b = append(b, key...)
		sum = sha256.Sum256(b)
	} else {
		h := sha256.New()
		h.Write([]byte(salt))
		h.Write([]byte{0})
		h.Write([]byte(key))
		h.Sum(sum[:0])
	}
	return uint32(binary.BigEndian.Uint64(sum[:8]) % Count)
}

// In reports whether key falls in the first percent (0-100, resolution 0.01) of the buckets
// under salt. Raising percent only ever turns false into true for a given salt and key.
func In(salt, key string, percent float64) bool {
	return Of(salt, key) < Threshold(percent)
}

// Threshold returns the number of buckets that make up percent, rounded to the nearest
// bucket and clamped to [0, Count].
func Threshold(percent float64) uint32 {
	switch {
	case percent <= 0 || percent != percent: // NaN counts as 0
		return 0
	case percent >= 100:
		return Count
	}
	return uint32(percent*100 + 0.5)
}
