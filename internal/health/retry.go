package health

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// retry is the wait between a starting instance's probe attempts: first, doubling up to max.
type retry struct {
	next, max time.Duration
	began     time.Time
}

func newRetry(first, max time.Duration) *retry {
	if first <= 0 || first > max {
		first = max
	}
	return &retry{next: first, max: max, began: time.Now()}
}

// wait returns the wait before the next attempt and doubles the one after it.
func (r *retry) wait() time.Duration {
	d := r.next
	r.next = min(2*r.next, r.max)
	return d
}

// pollEvery is how often a port that refused the last attempt is polled: every 2 ms at first,
// then every 1/200 of the time spent starting (an app that takes 10 s to listen is seen
// within 50 ms of listening), never less often than the retry's max.
func (r *retry) pollEvery() time.Duration {
	return min(max(2*time.Millisecond, time.Since(r.began)/200), r.max)
}

// waitRetry waits until the next attempt of a starting instance's probe pr at t, whose last
// attempt ended with err: the retry's wait, cut short when err was a refused connection and
// the port accepts one. False when the loop should end.
func (p *Prober) waitRetry(ctx context.Context, r *retry, pr spec.Probe, t Target, err error, done <-chan struct{}) bool {
	deadline := time.Now().Add(r.wait())
	poll := err != nil && errors.Is(err, syscall.ECONNREFUSED) && pr.Exec == nil && t.Addr != ""
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return true
		}
		if poll {
			left = min(left, r.pollEvery())
		}
		if !sleep(ctx, left, done) {
			return false
		}
		if poll && p.dial(ctx, t.Addr) == nil {
			return true
		}
	}
}

// sleep waits d; false when done or ctx ends first.
func sleep(ctx context.Context, d time.Duration, done <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	case <-ctx.Done():
		return false
	}
}

// dialOnce opens and closes one TCP connection to addr.
func dialOnce(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}
