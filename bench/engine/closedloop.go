package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"time"
)

// closedResult is one closed-loop trial.
type closedResult struct {
	requests, errors int64
	elapsed          time.Duration
	p50, p99         time.Duration
	// cpu is the CPU time (user+system) this process used during the whole trial, warm-up
	// included: the generator, and the in-process proxy when the trial goes through it.
	cpu   time.Duration
	total int64 // requests sent during the whole trial, warm-up included
}

// cpuPerRequest is this process's CPU time per request sent in the trial.
func (c closedResult) cpuPerRequest() time.Duration {
	if c.total == 0 {
		return 0
	}
	return c.cpu / time.Duration(c.total)
}

// rps is completed requests per second.
func (c closedResult) rps() float64 { return float64(c.requests) / c.elapsed.Seconds() }

// maxClosedSamples bounds the latencies kept per worker (and so the requests per worker).
const maxClosedSamples = 1 << 21

// closedLoop runs conns workers, each sending keep-alive GETs to rawURL back to back on its
// own connection, for warm (not counted) then dur.
func closedLoop(ctx context.Context, rawURL string, conns int, warm, dur time.Duration) (closedResult, error) {
	if err := loopbackURL(rawURL); err != nil {
		return closedResult{}, err
	}
	tr := loopTransport(conns)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return closedResult{}, err
	}
	cpu0 := processCPU()
	start := time.Now()
	measureFrom := start.Add(warm)
	stopAt := measureFrom.Add(dur)
	var (
		mu    sync.Mutex
		all   []time.Duration
		errs  int64
		total int64
		wg    sync.WaitGroup
	)
	for range conns {
		mine := req.Clone(ctx) // one request per worker, reused only sequentially
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1<<14)
			var myErrs, sent int64
			for len(lat) < maxClosedSamples && ctx.Err() == nil {
				t0 := time.Now()
				if t0.After(stopAt) {
					break
				}
				ok := get(client, mine)
				sent++
				if t0.Before(measureFrom) {
					continue
				}
				if !ok {
					myErrs++
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			errs += myErrs
			total += sent
			mu.Unlock()
		})
	}
	wg.Wait()
	res := closedResult{requests: int64(len(all)), errors: errs, elapsed: dur, cpu: processCPU() - cpu0, total: total}
	slices.Sort(all)
	if n := len(all); n > 0 {
		res.p50 = all[(n-1)/2]
		res.p99 = all[min(n-1, n*99/100)]
	}
	return res, ctx.Err()
}

// get sends one request and reads the body; false on any error or a 5xx.
func get(client *http.Client, req *http.Request) bool {
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err == nil && resp.StatusCode < 500
}

// processCPU is the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
