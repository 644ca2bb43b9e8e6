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

func TestSlowBound(t *testing.T) {
	tests := []struct {
		name string
		h    []int64
		want int
	}{
		{"p99 in the third bucket", []int64{500, 480, 19, 1}, 1},     // 2% above bound 1, 0.1% above bound 2
		{"tail exactly 1%", []int64{900, 90, 10, 0}, 1},              // 1% above bound 1
		{"faster than the finest bucket", []int64{1000, 0, 0, 0}, 0}, // nothing above any bound
		{"everything slow", []int64{0, 0, 0, 1000}, 2},               // all above the largest bound
	}
	for _, tt := range tests {
		if got := slowBound(tt.h, 0.01); got != tt.want {
			t.Errorf("%s: slowBound(%v) = %d, want %d", tt.name, tt.h, got, tt.want)
		}
	}
}
