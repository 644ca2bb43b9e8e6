package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketMidIsClose(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 40, math.MaxInt64}
	for range 10000 {
		values = append(values, rng.Uint64N(math.MaxInt64))
		values = append(values, rng.Uint64N(1e9))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= nBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0, %d)", v, i, nBuckets)
		}
		mid := bucketMid(i)
		if rel := math.Abs(float64(mid)-float64(v)) / math.Max(float64(v), 1); rel > 0.004 {
			t.Errorf("bucketMid(bucketOf(%d)) = %d, off by %.3f%%", v, mid, rel*100)
		}
	}
	// Buckets are ordered: a larger value never lands in an earlier bucket.
	for v := uint64(1); v < 1<<20; v += 7 {
		if bucketOf(v) < bucketOf(v-1) {
			t.Fatalf("bucketOf(%d) < bucketOf(%d)", v, v-1)
		}
	}
}

func TestQuantilesWithinOnePercent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var h histogram
	var exact []time.Duration
	for range 100000 {
		// Log-normal around 2ms with a long tail, like real latencies.
		d := time.Duration(2e6 * math.Exp(rng.NormFloat64()))
		h.record(d)
		exact = append(exact, d)
	}
	slices.Sort(exact)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		want := exact[int(math.Ceil(q*float64(len(exact))))-1]
		got := h.quantile(q)
		if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.01 {
			t.Errorf("quantile(%v) = %s, exact %s (off %.2f%%)", q, got, want, rel*100)
		}
	}
	if h.max != exact[len(exact)-1] {
		t.Errorf("max = %s, want %s", h.max, exact[len(exact)-1])
	}
}

func TestQuantileEmptyAndSingle(t *testing.T) {
	var h histogram
	if got := h.quantile(0.99); got != 0 {
		t.Errorf("quantile of empty = %s, want 0", got)
	}
	h.record(3 * time.Millisecond)
	if got := h.quantile(0.5); got != 3*time.Millisecond {
		t.Errorf("quantile of one 3ms value = %s, want 3ms (clamped to max)", got)
	}
}
