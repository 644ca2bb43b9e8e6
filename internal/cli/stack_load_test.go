package cli_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// steady is a steady load on one URL: a request every 20ms from two clients, at most 30000
// requests or 15 minutes, each counted as ok (2xx) or failed (any other answer or error).
type steady struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	ok     int
	failed int
	first  []string // the first failures, for the message
}

func startSteady(t *testing.T, url string) *steady {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	s := &steady{cancel: cancel}
	client := &http.Client{Timeout: 10 * time.Second}
	for range 2 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for n := 0; n < 15000; n++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				s.record(ctx, client, url)
			}
		}()
	}
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *steady) record(ctx context.Context, c *http.Client, url string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := c.Do(req)
	if ctx.Err() != nil {
		return // stopped: not the service's failure
	}
	failure := ""
	if err != nil {
		failure = err.Error()
	} else {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			failure = resp.Status
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if failure == "" {
		s.ok++
		return
	}
	s.failed++
	if len(s.first) < 5 {
		s.first = append(s.first, fmt.Sprintf("%s: %s", time.Now().Format("15:04:05.000"), failure))
	}
}

// counts returns the requests answered so far and the failures.
func (s *steady) counts() (ok, failed int, first []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ok, s.failed, append([]string(nil), s.first...)
}

// stop ends the load and waits for it.
func (s *steady) stop() (ok, failed int, first []string) {
	s.cancel()
	s.wg.Wait()
	return s.counts()
}
