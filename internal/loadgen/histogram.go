package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: each power of two is split into 2^subBits
// buckets, so a bucket's midpoint is within 1/2^(subBits+1) (0.4%) of any value in it.
const (
	subBits  = 7
	subCount = 1 << subBits
	// nBuckets covers every non-negative int64: bits.Len64 is at most 63.
	nBuckets = (64 - subBits) * subCount
)

// histogram counts durations in fixed log-linear buckets (the HDR histogram layout):
// no allocation per value, relative error below 0.4%. It is not safe for concurrent use.
type histogram struct {
	counts [nBuckets]int64
	total  int64
	max    time.Duration
}

// bucketOf returns the bucket index of v nanoseconds.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1)
	return (shift+1)*subCount + int(v>>shift) - subCount
}

// bucketMid returns the midpoint of bucket i in nanoseconds.
func bucketMid(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := i/subCount - 1
	low := uint64(subCount+i%subCount) << shift
	return low + (uint64(1)<<shift)/2
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.total++
	h.max = max(h.max, d)
}

// quantile returns the q-quantile (0 < q <= 1), never above the largest value seen;
// 0 when the histogram is empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(bucketMid(i)), h.max)
		}
	}
	return h.max
}
