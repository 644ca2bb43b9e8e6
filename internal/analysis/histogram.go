package analysis

import "time"

// total returns the number of observations in a histogram of per-bucket counts.
func total(h []int64) int64 {
	var n int64
	for _, c := range h {
		n += c
	}
	return n
}

// quantile estimates the q-quantile of a histogram the way Prometheus' histogram_quantile does:
// linear interpolation inside the bucket holding the rank, from 0 for the first bucket. A rank
// in the last, unbounded bucket reads as the largest bound. It returns 0 for an empty histogram.
func quantile(bounds []time.Duration, h []int64, q float64) time.Duration {
	n := total(h)
	if n == 0 {
		return 0
	}
	rank := q * float64(n)
	var cum int64
	for i, c := range h {
		if i == len(bounds) {
			return bounds[len(bounds)-1]
		}
		if float64(cum+c) >= rank && c > 0 {
			lo := time.Duration(0)
			if i > 0 {
				lo = bounds[i-1]
			}
			frac := (rank - float64(cum)) / float64(c)
			return lo + time.Duration(frac*float64(bounds[i]-lo))
		}
		cum += c
	}
	return bounds[len(bounds)-1]
}
