package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// sender issues one request of a run.
type sender struct {
	cfg    Config
	tmpl   *http.Request
	client *http.Client
}

// send issues request seq and classifies its outcome. An error after ctx ended is Canceled.
func (s *sender) send(ctx context.Context, seq int64, at time.Time) Result {
	r := Result{Seq: seq, Scheduled: at}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	t0 := time.Now()
	resp, err := s.client.Do(s.tmpl.Clone(rctx))
	if err == nil {
		r.Status = resp.StatusCode
		r.Version = resp.Header.Get("X-Version")
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	r.Latency = time.Since(t0)
	switch {
	case err != nil && ctx.Err() != nil:
		r.Canceled, r.Err = true, err
	case err != nil:
		r.Failed, r.Err, r.Kind = true, err, errKind(err)
	case s.cfg.FailStatus(r.Status):
		r.Failed, r.Kind = true, fmt.Sprintf("http_%d", r.Status)
	}
	return r
}

// errKind names a transport error shortly, for counting.
func errKind(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrNotLoopback):
		return "not_loopback"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.As(err, &dnsErr):
		return "dns"
	default:
		return "other"
	}
}

// newTransport is a transport of its own for one run: keep-alives on, an idle connection
// kept per worker, no proxy from the environment, and dials only to loopback addresses.
func newTransport(cfg Config) *http.Transport {
	d := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second, Control: loopbackOnly}
	return &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConns:        cfg.Workers,
		MaxIdleConnsPerHost: cfg.Workers,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// loopbackOnly refuses to connect to a resolved address that is not loopback, so a
// "localhost" that resolves elsewhere is refused too.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("dial %s: %w", address, ErrNotLoopback)
	}
	return nil
}

// isLoopbackHost reports whether host (no port, no brackets) is localhost or a loopback IP.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
