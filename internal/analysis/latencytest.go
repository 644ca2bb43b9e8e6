package analysis

import (
	"math"
	"sort"
	"time"
)

// medianQuantile is the quantile the latency test always compares, next to the tail one.
const medianQuantile = 0.5

// quantileTest compares the canary's latencies with the baseline's at one quantile q. Before
// each window it reads the baseline's q-quantile T from the baseline's windows so far (data
// already seen, so the choice is predictable); a baseline request is slow when it takes
// longer than T, a canary request when it takes longer than T×(1+tolerance), rounded up to a
// bucket bound. When the canary is no slower than (1+tolerance)× the baseline, a slow request
// is the canary's with probability at most its share of the window, whatever T: the error
// test's conditional count test applies, window by window, to slow requests.
type quantileTest struct {
	q       float64
	m       mixture
	started bool
	// base, canary: bucket indices of the last window's thresholds, baseBound and canBound
	// their bounds.
	base, canary        int
	baseBound, canBound time.Duration
	slowB, slowC        int64 // slow requests since the test started
	judgedB, judgedC    int64 // requests judged since the test started
}

// setThresholds reads the thresholds for the next window from acc, the baseline's histogram
// of n requests before it, whose first lo buckets are empty.
func (t *quantileTest) setThresholds(bounds []time.Duration, tolerance float64, acc []int64, n int64, lo int) {
	t.started = true
	t.base = quantileIndex(acc, n, t.q, lo, len(bounds))
	t.canary = boundAtLeast(bounds, t.base, time.Duration(math.Ceil(float64(bounds[t.base])*(1+tolerance))))
	t.baseBound, t.canBound = bounds[t.base], boundOrMax(bounds, t.canary)
}

// count judges one window's histograms, given as prefix sums cc and cb, at share p against the
// thresholds set before it, and returns the window's slow requests of canary and baseline.
func (t *quantileTest) count(logs *shareLogs, cc, cb []int64, p float64) (sc, sb int64) {
	nc, nb := cc[len(cc)-1], cb[len(cb)-1]
	sc, sb = nc-cc[t.canary], nb-cb[t.base]
	t.slowC, t.slowB = t.slowC+sc, t.slowB+sb
	t.judgedC, t.judgedB = t.judgedC+nc, t.judgedB+nb
	t.m.observe(logs, p, sc, sb)
	return sc, sb
}

// quantileIndex returns the bucket holding the q-quantile of histogram h of n observations,
// whose first lo buckets are empty, capped at the last bounded bucket (nbounds-1) so that
// there is always a bound to compare with.
func quantileIndex(h []int64, n int64, q float64, lo, nbounds int) int {
	rank := q * float64(n)
	var cum int64
	for i := lo; i < nbounds; i++ {
		cum += h[i]
		if float64(cum) >= rank && cum > 0 {
			return i
		}
	}
	return nbounds - 1
}

// boundAtLeast returns the first bucket index from i on whose bound is at least d, or
// len(bounds) (the unbounded bucket: nothing is slower) when none is.
func boundAtLeast(bounds []time.Duration, i int, d time.Duration) int {
	return i + sort.Search(len(bounds)-i, func(k int) bool { return bounds[i+k] >= d })
}

// boundOrMax is bounds[i], or the largest bound for the unbounded bucket.
func boundOrMax(bounds []time.Duration, i int) time.Duration {
	return bounds[min(i, len(bounds)-1)]
}

// limitP is the share of requests that may exceed max_p99.
const limitP = 0.01

// limitTest is the sequential test of max_p99: "at most 1% of the canary's requests take
// longer than the limit". Each canary request is slow (longer than the limit, rounded up to a
// bucket bound) with some probability a; under the hypothesis a <= 1%. For an alternative
// a1 = rho×1% the likelihood ratio of a window with s slow requests of n is
// rho^s × ((1-a1)/(1-1%))^(n-s), a supermartingale when a <= 1%; the mixture averages it over
// the error test's grid of rho (a1 from 1.25% to 50%).
type limitTest struct {
	idx        int // bucket index of the limit; len(bounds) when the limit is beyond them
	bound      time.Duration
	slow, reqs int64
	m          mixture
}

// limitLogs are log((1-rho×1%)/(1-1%)) over the grid.
var limitLogs = func() (l [gridSize]float64) {
	for k, rho := range ratioGrid {
		l[k] = math.Log1p(-rho*limitP) - math.Log1p(-limitP)
	}
	return l
}()

func newLimitTest(bounds []time.Duration, limit time.Duration) limitTest {
	idx := boundAtLeast(bounds, 0, limit)
	return limitTest{idx: idx, bound: boundOrMax(bounds, idx)}
}

// observe judges one window of the canary's histogram, given as prefix sums.
func (t *limitTest) observe(cc []int64) {
	n := cc[len(cc)-1]
	s := n - cc[min(t.idx, len(cc)-1)]
	t.slow, t.reqs = t.slow+s, t.reqs+n
	t.m.observeOneSample(s, n, &limitLogs)
}

// accumulate adds the window's histogram d into acc (grown to d's length) and writes d's
// running sums into buf (grown as needed), in one pass; it returns both and the index of d's
// first non-empty bucket (len(d) when all are empty).
func accumulate(acc, d, buf []int64) ([]int64, []int64, int) {
	if len(acc) < len(d) {
		acc = append(acc, make([]int64, len(d)-len(acc))...)
	}
	if cap(buf) < len(d) {
		buf = make([]int64, len(d))
	}
	buf = buf[:len(d)]
	first := len(d)
	var run int64
	for i, x := range d {
		if x != 0 && first == len(d) {
			first = i
		}
		run += x
		buf[i] = run
		acc[i] += x
	}
	return acc, buf, first
}
