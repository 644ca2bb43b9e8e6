package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// result is the JSON line openloop prints. Latencies are in microseconds, over the requests
// answered 200, measured from each request's scheduled time; lag is from the scheduled time to
// the moment the request was written (the generator's own delay plus waiting for a free
// connection).
type result struct {
	Rate      int            `json:"rate"`
	Conns     int            `json:"conns"`
	Scheduled int64          `json:"scheduled"`
	OK        int64          `json:"ok"`
	Failed    int64          `json:"failed"`
	Unsent    int64          `json:"unsent"`
	Seconds   float64        `json:"seconds"`
	P50       float64        `json:"p50_us"`
	P99       float64        `json:"p99_us"`
	P999      float64        `json:"p999_us"`
	Max       float64        `json:"max_us"`
	LagP50    float64        `json:"lag_p50_us"`
	LagP99    float64        `json:"lag_p99_us"`
	Errors    map[string]int `json:"errors,omitempty"`
}

// worker is one connection's share of the run.
type worker struct {
	c    *conn
	t    *timer
	lat  []time.Duration
	lag  []time.Duration
	fail int64
	errs map[string]int
}

// run sends c.rate requests per second for c.duration and returns the tally.
func run(ctx context.Context, c config) (result, error) {
	total := int64(c.duration.Seconds() * float64(c.rate))
	interval := time.Second / time.Duration(c.rate)
	req := requestBytes(c.host, c.path)
	ws := make([]*worker, c.conns)
	for i := range ws {
		t, err := newTimer()
		if err != nil {
			return result{}, err
		}
		defer t.close()
		ws[i] = &worker{c: newConn(c.addr, req), t: t, errs: map[string]int{},
			lat: make([]time.Duration, 0, total/int64(c.conns)+16)}
		defer ws[i].c.close()
	}
	// Dial every connection before the clock starts, so the run measures requests, not dials.
	for _, w := range ws {
		if _, err := w.c.do(time.Now().Add(c.timeout)); err != nil {
			return result{}, fmt.Errorf("warm-up request to %s: %w", c.addr, err)
		}
	}
	clk, err := newClock()
	if err != nil {
		return result{}, err
	}
	var next atomic.Int64
	stopAt := c.duration + c.timeout // nothing is sent after this
	var wg sync.WaitGroup
	errc := make(chan error, len(ws))
	for _, w := range ws {
		wg.Go(func() {
			if err := w.loop(ctx, clk, &next, total, interval, stopAt, c.timeout); err != nil {
				errc <- err
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return result{}, err
	}
	return tally(c, ws, total, time.Since(clk.start)), nil
}

// loop claims the next scheduled request, waits for its time and sends it, until every
// request is claimed or the run is out of time.
func (w *worker) loop(ctx context.Context, clk clock, next *atomic.Int64, total int64, interval, stopAt, timeout time.Duration) error {
	for ctx.Err() == nil {
		i := next.Add(1) - 1
		if i >= total {
			return nil
		}
		offset := time.Duration(i) * interval
		if err := w.t.waitUntil(clk, offset); err != nil {
			return err
		}
		sched := clk.start.Add(offset)
		sent := time.Now()
		if sent.Sub(clk.start) > stopAt {
			// Too far behind to send within the run's bound; the caller counts the rest.
			next.Store(total)
			return nil
		}
		status, err := w.c.do(sched.Add(timeout))
		done := time.Now()
		switch {
		case err != nil:
			w.fail++
			w.errs[errKind(err)]++
		case status != 200:
			w.fail++
			w.errs[fmt.Sprintf("status %d", status)]++
		default:
			w.lat = append(w.lat, done.Sub(sched))
			w.lag = append(w.lag, sent.Sub(sched))
		}
	}
	return nil
}

func errKind(err error) string {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return "timeout"
	}
	return err.Error()
}

func tally(c config, ws []*worker, total int64, took time.Duration) result {
	r := result{Rate: c.rate, Conns: c.conns, Scheduled: total, Seconds: took.Seconds(), Errors: map[string]int{}}
	var lat, lag []time.Duration
	for _, w := range ws {
		lat, lag = append(lat, w.lat...), append(lag, w.lag...)
		r.Failed += w.fail
		for k, n := range w.errs {
			r.Errors[k] += n
		}
	}
	r.OK = int64(len(lat))
	r.Unsent = total - r.OK - r.Failed
	slices.Sort(lat)
	slices.Sort(lag)
	r.P50, r.P99, r.P999 = micros(pct(lat, 50)), micros(pct(lat, 99)), micros(pct(lat, 99.9))
	r.LagP50, r.LagP99 = micros(pct(lag, 50)), micros(pct(lag, 99))
	if len(lat) > 0 {
		r.Max = micros(lat[len(lat)-1])
	}
	return r
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// pct is the p-th percentile (nearest rank) of sorted durations.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
