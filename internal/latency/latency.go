// Package latency fixes the layout of cutover's latency histograms: log-linear buckets, 64 to
// each power of two of nanoseconds, so that every bucket is at most 1/64 (1.6%) as wide as the
// latencies it holds, from 8.192 µs to 137 s. The proxy counts each request in one bucket with
// an integer computation and no allocation; the canary judge reads any quantile of any
// revision from those counts to within a bucket, whatever the shape of the distribution. The
// layout is the same for every revision, so histograms add up bucket by bucket.
//
// Bucket 0 holds latencies up to 2^13 ns, the last bucket those above 2^37 ns; bucket i in
// between holds latencies in (Bound(i-1), Bound(i)]. The layout is fixed: counts kept
// elsewhere (a dashboard, a persisted judge) keep their meaning across upgrades. The package
// holds no state and imports only the standard library.
package latency

import (
	"math/bits"
	"time"
)

const (
	subBits = 6            // 2^subBits buckets per power of two
	sub     = 1 << subBits // buckets per power of two
	minExp  = 13           // bucket 0 holds latencies up to 2^minExp ns (8.192 µs)
	maxExp  = 37           // the last bucket holds latencies above 2^maxExp ns (137 s)
)

// Buckets is the number of buckets of a histogram, the last one unbounded.
const Buckets = 1 + (maxExp-minExp)*sub + 1

// Index returns the bucket of a latency of ns nanoseconds, in [0, Buckets).
func Index(ns int64) int {
	v := uint64(ns - 1) // buckets are closed above: a latency on a bound belongs below it
	if ns <= 1<<minExp {
		return 0
	}
	e := bits.Len64(v) - 1 // v >= 2^minExp, so e >= minExp
	if e >= maxExp {
		return Buckets - 1
	}
	return 1 + (e-minExp)*sub + int(v>>(e-subBits))&(sub-1)
}

// Bound returns the upper bound of bucket i, for i in [0, Buckets-1); the last bucket has none.
func Bound(i int) time.Duration {
	if i <= 0 {
		return 1 << minExp
	}
	i--
	e := minExp + i/sub
	return time.Duration(uint64(1)<<e + uint64(i%sub+1)<<(e-subBits))
}

// Bounds returns the upper bounds of all buckets but the last, increasing: Buckets-1 of them.
func Bounds() []time.Duration {
	b := make([]time.Duration, Buckets-1)
	for i := range b {
		b[i] = Bound(i)
	}
	return b
}
