package analysis

import (
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	bounds := []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second}
	tests := []struct {
		name string
		h    []int64
		q    float64
		want time.Duration
	}{
		{"empty", []int64{0, 0, 0, 0}, 0.99, 0},
		{"first bucket interpolates from zero", []int64{100, 0, 0, 0}, 0.5, 5 * time.Millisecond},
		{"inside the second bucket", []int64{50, 50, 0, 0}, 0.99, 98200 * time.Microsecond},
		{"last finite bound", []int64{0, 0, 10, 0}, 1, time.Second},
		{"unbounded bucket reads as the largest bound", []int64{90, 0, 0, 10}, 0.99, time.Second},
	}
	for _, tt := range tests {
		if got := quantile(bounds, tt.h, tt.q); got != tt.want {
			t.Errorf("%s: quantile(%v, %v) = %v, want %v", tt.name, tt.h, tt.q, got, tt.want)
		}
	}
}

func TestQuantileIndex(t *testing.T) {
	tests := []struct {
		name string
		h    []int64
		q    float64
		want int
	}{
		{"median in the first bucket", []int64{600, 300, 100, 0}, 0.5, 0},
		{"median on a bucket's end", []int64{500, 500, 0, 0}, 0.5, 0},
		{"p99 in the third bucket", []int64{500, 480, 19, 1}, 0.99, 2},
		{"rank in the unbounded bucket caps at the last bound", []int64{0, 0, 0, 1000}, 0.5, 2},
		{"empty", []int64{0, 0, 0, 0}, 0.5, 2},
	}
	for _, tt := range tests {
		if got := quantileIndex(tt.h, total(tt.h), tt.q, 0, len(tt.h)-1); got != tt.want {
			t.Errorf("%s: quantileIndex(%v, %v) = %d, want %d", tt.name, tt.h, tt.q, got, tt.want)
		}
	}
}

func TestBoundAtLeast(t *testing.T) {
	bounds := []time.Duration{10, 20, 30}
	tests := []struct {
		i    int
		d    time.Duration
		want int
	}{
		{0, 10, 0}, {0, 11, 1}, {1, 20, 1}, {1, 21, 2}, {0, 31, 3}, {2, 5, 2},
	}
	for _, tt := range tests {
		if got := boundAtLeast(bounds, tt.i, tt.d); got != tt.want {
			t.Errorf("boundAtLeast(%v, %d, %v) = %d, want %d", bounds, tt.i, tt.d, got, tt.want)
		}
	}
}
