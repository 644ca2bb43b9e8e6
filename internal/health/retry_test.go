package health

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// listensAt makes a fake instance that starts listening at `at`: before, a probe or a poll is
// refused; from then on a poll connects and a probe gets status (nil: passes). It must be
// called inside the synctest bubble.
func listensAt(at time.Duration, status error) (*fakeCheck, func(context.Context, string) error) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	start := time.Now()
	f := newFake(func(context.Context, string, int) error {
		if time.Since(start) < at {
			return fmt.Errorf("GET /healthz: %w", refused)
		}
		return status
	})
	dial := func(context.Context, string) error {
		if time.Since(start) < at {
			return refused
		}
		return nil
	}
	return f, dial
}

// fastProber is a prober of readiness with period, its fast start retrying up to 40 ms.
func fastProber(period time.Duration, dial func(context.Context, string) error) *Prober {
	pr := NewProber(spec.Probes{Readiness: fakeProbe("ready", 0, period, 1, 3)}, Target{Addr: "127.0.0.1:1"}, nil)
	pr.startPeriod = 40 * time.Millisecond
	pr.dial = dial
	return pr
}

// A starting instance whose port refuses connections is polled every few milliseconds and
// probed as soon as it listens: ready within 2.6 ms of listening at 510 ms (the retry alone,
// 40 ms apart by then, would see it at 542 ms), whatever the probe period.
func TestProberPollsARefusedPort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, dial := listensAt(510*time.Millisecond, nil)
		reports := runFor(t, fastProber(time.Second, dial), f, time.Second, nil)
		last := reports[len(reports)-1]
		if !last.Result.Ready || last.At < 510*time.Millisecond || last.At > 514*time.Millisecond {
			t.Errorf("ready reported %+v; want ready between 510 and 514 ms (listening at 510 ms)", last)
		}
		if n := len(f.times("ready")); n > 20 {
			t.Errorf("%d probe attempts before ready; want the retry's pace (the poll only dials)", n)
		}
	})
}

// An instance that listens but fails its probe is never made ready by the poll, and once it
// accepts connections it is no longer polled, only retried (2 ms doubling to 40 ms).
func TestProberPollNeverMakesReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, dial := listensAt(100*time.Millisecond, errors.New("GET /healthz: status 503"))
		reports := runFor(t, fastProber(10*time.Second, dial), f, 2*time.Second, nil)
		for _, r := range reports {
			if r.Result.Ready {
				t.Fatalf("ready reported %+v for an instance whose probe fails", r)
			}
		}
		if n := len(f.times("ready")); n > 100 {
			t.Errorf("%d attempts in 2 s; want the retry's pace (≈ 50 + 1900/40), not the poll's", n)
		}
	})
}

// The poll starts from a real refused attempt: an HTTP or TCP probe of a closed port says so
// in a way waitRetry sees.
func TestRefusedAttemptIsSeen(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for _, p := range []spec.Probe{{HTTP: &spec.HTTPProbe{Path: "/healthz"}}, {TCP: &spec.TCPProbe{}}} {
		err := newChecker().check(t.Context(), p, Target{Addr: addr})
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("probe %+v of a closed port: %v, want it to wrap ECONNREFUSED", p, err)
		}
	}
	if err := dialOnce(t.Context(), addr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dialOnce of a closed port: %v", err)
	}
}
