package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/flags"
)

const bulkPath = "/ofrep/v1/evaluate/flags"

// bulkResult is one closed-loop run.
type bulkResult struct {
	lat     []time.Duration
	elapsed time.Duration
	errors  int
}

func (r bulkResult) row(workers int, cached bool) string {
	answer := "200, full body"
	if cached {
		answer = "304 (If-None-Match)"
	}
	rate := float64(len(r.lat)) / r.elapsed.Seconds()
	s := fmt.Sprintf("| %d | %s | %d | %.0f | %s | %s | %s |", workers, answer, len(r.lat), rate,
		ms(quantile(r.lat, 0.5)), ms(quantile(r.lat, 0.99)), ms(quantile(r.lat, 1)))
	if r.errors > 0 {
		s += fmt.Sprintf(" (%d errors)", r.errors)
	}
	return s
}

// bulkRequest builds one bulk evaluation for user, with etag as If-None-Match when set.
func bulkRequest(ctx context.Context, base, token, user, etag string) *http.Request {
	body := `{"context":{"targetingKey":"` + user + `","country":"CA","plan":"pro"}}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+bulkPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	return req
}

// bulkLoop runs workers closed loops for dur, each on its own keep-alive connection. With
// cached, each worker keeps one user and sends the ETag of its first answer, so that the
// daemon evaluates everything but answers 304 without a body.
func bulkLoop(ctx context.Context, base, token string, workers int, dur time.Duration, cached bool) (bulkResult, error) {
	var mu sync.Mutex
	var res bulkResult
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(dur)
	for w := range workers {
		wg.Go(func() {
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
			defer hc.CloseIdleConnections()
			lat, errs := make([]time.Duration, 0, 1<<14), 0
			etag := ""
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				user := fmt.Sprintf("user-%d-%d", w, i)
				if cached {
					user = fmt.Sprintf("user-%d", w)
				}
				t0 := time.Now()
				resp, err := hc.Do(bulkRequest(ctx, base, token, user, etag))
				if err != nil {
					errs++
					continue
				}
				drain(resp.Body)
				lat = append(lat, time.Since(t0))
				want := http.StatusOK
				if cached && etag != "" {
					want = http.StatusNotModified
				}
				if resp.StatusCode != want {
					errs++
				}
				if cached {
					etag = resp.Header.Get("ETag")
				}
			}
			mu.Lock()
			res.lat, res.errors = append(res.lat, lat...), res.errors+errs
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if len(res.lat) == 0 {
		return res, fmt.Errorf("no bulk request succeeded")
	}
	return res, nil
}

// changeMethod is a client that watches for flag changes: start returns a channel that
// receives once per change the client has seen.
type changeMethod struct {
	name  string
	start func(ctx context.Context, base, token string) (<-chan struct{}, error)
}

var viaSSE = changeMethod{name: "SSE event received", start: func(ctx context.Context, base, token string) (<-chan struct{}, error) {
	return sse(ctx, base, token, false)
}}

var viaSSERefetch = changeMethod{name: "SSE event, then bulk re-fetch done", start: func(ctx context.Context, base, token string) (<-chan struct{}, error) {
	return sse(ctx, base, token, true)
}}

// sse subscribes to the OFREP event stream; with refetch it also re-fetches the bulk
// evaluation before reporting the change seen.
func sse(ctx context.Context, base, token string, refetch bool) (<-chan struct{}, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+flags.EventsPath, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("event stream: %s", resp.Status)
	}
	out := make(chan struct{}, 64)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if !strings.Contains(sc.Text(), "refetchEvaluation") {
				continue
			}
			if refetch {
				r, err := http.DefaultClient.Do(bulkRequest(ctx, base, token, "user-1", ""))
				if err != nil {
					return
				}
				drain(r.Body)
			}
			out <- struct{}{}
		}
	}()
	return out, nil
}

// viaPoll is a client polling the bulk evaluation every period with If-None-Match.
func viaPoll(period time.Duration) changeMethod {
	return changeMethod{name: fmt.Sprintf("polling every %s (If-None-Match)", period), start: func(ctx context.Context, base, token string) (<-chan struct{}, error) {
		out := make(chan struct{}, 64)
		go func() {
			etag := ""
			tick := time.NewTicker(period)
			defer tick.Stop()
			for {
				resp, err := http.DefaultClient.Do(bulkRequest(ctx, base, token, "user-1", etag))
				if err != nil {
					return
				}
				drain(resp.Body)
				if resp.StatusCode == http.StatusOK {
					if etag != "" {
						out <- struct{}{}
					}
					etag = resp.Header.Get("ETag")
				}
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}()
		return out, nil
	}}
}

// changeLatency flips flag-001's kill switch n times at random moments and measures, for
// each, the time from just before the API call until the client reports the change.
func changeLatency(ctx context.Context, c *api.Client, base, token string, n int, m changeMethod) ([]time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	seen, err := m.start(ctx, base, token)
	if err != nil {
		return nil, err
	}
	time.Sleep(1200 * time.Millisecond) // let a poller take its first answer
	cur, err := c.Flag(ctx, "flag-001")
	if err != nil {
		return nil, err
	}
	enabled := cur.Enabled
	var lat []time.Duration
	for i := range n {
		time.Sleep(time.Duration(rand.N(int64(700 * time.Millisecond)))) // random phase against a poller
		for len(seen) > 0 {
			<-seen
		}
		enabled = !enabled // a change that alters nothing is not one: no event
		t0 := time.Now()
		if _, err := c.SetFlagEnabled(ctx, "bench", "flag-001", enabled); err != nil {
			return nil, err
		}
		select {
		case <-seen:
			lat = append(lat, time.Since(t0))
		case <-time.After(10 * time.Second):
			return nil, fmt.Errorf("change %d not seen within 10s", i)
		}
	}
	return lat, nil
}
