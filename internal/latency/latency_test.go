package latency

import (
	"testing"
	"time"
)

// TestIndexAgreesWithBounds: every latency lands in the bucket whose bounds enclose it,
// around every bound and at the ends.
func TestIndexAgreesWithBounds(t *testing.T) {
	bounds := Bounds()
	if len(bounds) != Buckets-1 {
		t.Fatalf("len(Bounds()) = %d, want %d", len(bounds), Buckets-1)
	}
	for i := 1; i < len(bounds); i++ {
		if bounds[i] <= bounds[i-1] {
			t.Fatalf("bounds not increasing at %d: %v then %v", i, bounds[i-1], bounds[i])
		}
	}
	check := func(ns int64) {
		i := Index(ns)
		if i < 0 || i >= Buckets {
			t.Fatalf("Index(%d) = %d, out of range", ns, i)
		}
		if i < Buckets-1 && ns > int64(bounds[i]) {
			t.Errorf("Index(%d) = %d, but its bound is %d", ns, i, bounds[i])
		}
		if i > 0 && ns <= int64(bounds[i-1]) {
			t.Errorf("Index(%d) = %d, but the bucket before ends at %d", ns, i, bounds[i-1])
		}
	}
	for _, b := range bounds {
		for _, d := range []int64{-1, 0, 1} {
			check(int64(b) + d)
		}
	}
	for _, ns := range []int64{-5, 0, 1, 1 << 62, 1<<63 - 1} {
		check(ns)
	}
}

// TestResolution: each bucket is at most 1/64 as wide as its lower end, so a quantile read to
// the bucket is within 1.6% of the truth.
func TestResolution(t *testing.T) {
	bounds := Bounds()
	for i := 1; i < len(bounds); i++ {
		lo, hi := float64(bounds[i-1]), float64(bounds[i])
		if w := (hi - lo) / lo; w > 1.0/64+1e-12 {
			t.Fatalf("bucket %d (%v, %v] is %.2f%% wide", i, bounds[i-1], bounds[i], 100*w)
		}
	}
	if got, want := bounds[0], 8192*time.Nanosecond; got != want {
		t.Errorf("first bound %v, want %v", got, want)
	}
	if got, want := bounds[len(bounds)-1], time.Duration(1)<<37; got != want {
		t.Errorf("last bound %v, want %v", got, want)
	}
}

func BenchmarkIndex(b *testing.B) {
	var s int
	for i := range b.N {
		s += Index(int64(i)*7919 + 1_000_000)
	}
	_ = s
}
