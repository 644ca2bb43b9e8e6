package analysis

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/latency"
)

// The simulation: requests arrive at a fixed rate; each goes to the canary with probability
// share; each fails with its revision's error rate and takes a latency drawn from a
// log-normal distribution, counted in the proxy's histogram buckets. Every window the judge
// gets the cumulative counters, as the controller reads them from the proxy.

const (
	simRate     = 100  // requests per second
	simDuration = 3600 // seconds of analysis
)

// dist is a log-normal latency distribution: median × exp(sigma × N(0, 1)).
type dist struct {
	name   string
	median time.Duration
	sigma  float64
}

// The distributions simulated, by their spread p99/p50 = exp(2.326 sigma).
var (
	// distNarrow is the one the judge missed before its histograms were fine: 21 ms, p99 22 ms.
	distNarrow   = dist{"narrow (p99/p50 1.05)", 21 * time.Millisecond, math.Log(1.05) / 2.326}
	distModerate = dist{"moderate (p99/p50 1.6)", 30 * time.Millisecond, math.Log(1.6) / 2.326}
	distWide     = dist{"wide (p99/p50 3.2)", 40 * time.Millisecond, 0.5}
	distLongTail = dist{"long-tailed (p99/p50 16)", 20 * time.Millisecond, 1.2}
)

// draw returns one latency in nanoseconds, scaled by factor.
func (d dist) draw(r *rand.Rand, factor float64) int64 {
	return int64(float64(d.median) * factor * math.Exp(d.sigma*r.NormFloat64()))
}

// scenario is one simulated canary.
type scenario struct {
	name      string
	shares    []float64 // the canary's share, changing evenly over the hour when several
	baseErr   float64
	canaryErr float64
	latFactor float64 // canary latency = baseline latency × latFactor
	lat       dist    // zero: distWide
	runs      int
	wantFail  bool // a regression: report detection rather than false rollbacks
	rule      Rule // the rule expected to catch a regression
	window    int  // seconds between judgements (a divisor of 60); 0 means 1
	// restarts: each run stores and resumes its judge (through JSON, as a restarted daemon
	// does) at 0 to restarts moments drawn at random over the hour.
	restarts int
}

// runResult is one simulated analysis: when each method failed the canary (seconds since the
// start), or -1 when it never did.
type runResult struct {
	judgeAt, errorsAt, p99At int // errorsAt, p99At: the threshold method's two checks
	rule                     Rule
}

// outcome summarises the runs of one scenario.
type outcome struct {
	runs  int
	judge stat
	// errors and p99 are the threshold method's error-rate and p99 checks, each on its own.
	errors, p99 stat
	rules       map[Rule]int
}

// stat counts the runs failed by one method and the median, 90th percentile and largest time
// to fail (seconds; +Inf when too few runs failed).
type stat struct {
	fails            int
	median, p90, max float64
}

func statOf(ats []int) stat {
	var s stat
	ts := make([]float64, len(ats))
	for i, a := range ats {
		ts[i] = math.Inf(1)
		if a >= 0 {
			s.fails++
			ts[i] = float64(a)
		}
	}
	s.median = median(ts)
	s.p90 = ts[(len(ts)*9-1)/10]
	s.max = ts[len(ts)-1]
	return s
}

// simulate runs sc over seeds 1..runs in parallel and summarises them.
func simulate(sc scenario, cfg Config, threshold thresholdMethod) outcome {
	res := make([]runResult, sc.runs)
	if sc.lat.median == 0 {
		sc.lat = distWide
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				res[i] = simulateOne(sc, cfg, threshold, uint64(i+1))
			}
		})
	}
	for i := range sc.runs {
		next <- i
	}
	close(next)
	wg.Wait()
	o := outcome{runs: sc.runs, rules: map[Rule]int{}}
	var jt, et, pt []int
	for _, r := range res {
		jt, et, pt = append(jt, r.judgeAt), append(et, r.errorsAt), append(pt, r.p99At)
		if r.judgeAt >= 0 {
			o.rules[r.rule]++
		}
	}
	o.judge, o.errors, o.p99 = statOf(jt), statOf(et), statOf(pt)
	return o
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	return xs[(len(xs)-1)/2]
}

// thresholdMethod is today's fixed per-minute check (Argo Rollouts, Flagger): every minute,
// fail when the last minute's canary error rate exceeds maxErrorRate or its p99 latency
// (histogram_quantile) exceeds maxP99, with no failure allowance.
type thresholdMethod struct {
	maxErrorRate float64
	maxP99       time.Duration
}

// simulateOne runs one hour of traffic through a Judge and the threshold method.
func simulateOne(sc scenario, cfg Config, tm thresholdMethod, seed uint64) runResult {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	j, err := New(cfg)
	if err != nil {
		panic(err)
	}
	bounds := DefaultLatencyBounds
	s := Sample{Canary: Counts{Latency: make([]int64, len(bounds)+1)}, Baseline: Counts{Latency: make([]int64, len(bounds)+1)}}
	var minute Sample // counters at the start of the current minute, for the threshold method
	minute.Canary.Latency = slices.Clone(s.Canary.Latency)
	res := runResult{judgeAt: -1, errorsAt: -1, p99At: -1}
	j.Observe(s)
	step := max(sc.window, 1)
	resumeAt := restartTimes(sc.restarts, seed)
	for t := step; t <= simDuration && (res.judgeAt < 0 || res.errorsAt < 0 || res.p99At < 0); t += step {
		share := sc.shares[min((t-step)*len(sc.shares)/simDuration, len(sc.shares)-1)]
		nc := binomial(r, simRate*step, share)
		nb := simRate*step - nc
		addRequests(r, &s.Canary, nc, sc.canaryErr, sc.lat, sc.latFactor)
		addRequests(r, &s.Baseline, nb, sc.baseErr, sc.lat, 1)
		if len(resumeAt) > 0 && t >= resumeAt[0] {
			j, resumeAt = resumed(cfg, j), resumeAt[1:]
		}
		if res.judgeAt < 0 {
			j.Observe(s)
			if j.failed != nil {
				res.judgeAt, res.rule = t, j.failed.Rule
			}
		}
		if t%60 == 0 {
			errs, p99 := tm.fails(minute.Canary, s.Canary)
			if res.errorsAt < 0 && errs {
				res.errorsAt = t
			}
			if res.p99At < 0 && p99 {
				res.p99At = t
			}
			minute.Canary.Requests, minute.Canary.Errors = s.Canary.Requests, s.Canary.Errors
			copy(minute.Canary.Latency, s.Canary.Latency)
		}
	}
	return res
}

// restartTimes draws 0 to n moments of the hour, in order, from their own stream of seed.
func restartTimes(n int, seed uint64) []int {
	if n == 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(seed, 0x7e57a7))
	ts := make([]int, r.IntN(n+1))
	for i := range ts {
		ts[i] = 1 + r.IntN(simDuration)
	}
	slices.Sort(ts)
	return ts
}

// resumed stores j's snapshot as JSON and resumes a judge from it; the resumed judge takes
// its next sample as a starting point, as after a daemon restart.
func resumed(cfg Config, j *Judge) *Judge {
	b, err := json.Marshal(j.Snapshot())
	if err != nil {
		panic(err)
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		panic(err)
	}
	r, err := Resume(cfg, s)
	if err != nil {
		panic(err)
	}
	return r
}

// fails applies the threshold method's two checks to the canary's counters over one minute.
func (tm thresholdMethod) fails(from, to Counts) (errs, p99 bool) {
	d := delta(from, to, nil)
	if d.Requests == 0 {
		return false, false
	}
	errs = float64(d.Errors) > tm.maxErrorRate*float64(d.Requests)
	p99 = quantile(DefaultLatencyBounds, d.Latency, 0.99) > tm.maxP99
	return errs, p99
}

// addRequests adds n requests to c: errors at rate errRate, latencies drawn from lat scaled
// by factor.
func addRequests(r *rand.Rand, c *Counts, n int, errRate float64, lat dist, factor float64) {
	c.Requests += int64(n)
	c.Errors += int64(binomial(r, n, errRate))
	for range n {
		c.Latency[latency.Index(lat.draw(r, factor))]++
	}
}

// binomial draws from Binomial(n, p) by inversion: exact, and fast for the small means here.
func binomial(r *rand.Rand, n int, p float64) int { return binomialLog(r, n, p, math.Log1p(-p)) }

// binomialLog is binomial with logq = log(1-p) computed by the caller.
func binomialLog(r *rand.Rand, n int, p, logq float64) int {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	case p > 0.5:
		return n - binomial(r, n, 1-p)
	}
	odds := p / (1 - p)
	f := math.Exp(float64(n) * logq)
	if f == 0 {
		panic(fmt.Sprintf("binomial(%d, %v): P(0) underflows; keep windows small", n, p))
	}
	u := r.Float64()
	k := 0
	for u > f && k < n {
		u -= f
		f *= odds * float64(n-k) / float64(k+1)
		k++
	}
	return k
}
