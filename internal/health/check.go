package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/cutover/cutover/internal/spec"
)

// bodyLimit is how much of an HTTP probe's answer is read (and discarded).
const bodyLimit = 4 << 10

// defaultChecker serves the package-level Check.
var defaultChecker = newChecker()

// Check runs one attempt of probe p against t, bounded by p.Timeout (DefaultTimeout when
// zero) and ctx. It returns nil on success and otherwise an error saying why, e.g.
// "GET /healthz: status 503". HTTP probes succeed on 2xx and 3xx (redirects are not
// followed), TCP probes when a connection opens, exec probes when the command exits 0.
// The error's text has t's secrets hidden (Target.Redact).
func Check(ctx context.Context, p spec.Probe, t Target) error {
	return t.redact(defaultChecker.check(ctx, p, t))
}

// checker runs probes with one HTTP client that keeps no idle connections to instances.
type checker struct {
	client *http.Client
}

func newChecker() *checker {
	tr := &http.Transport{
		Proxy:               nil, // probes go straight to the instance, never via $HTTP_PROXY
		DialContext:         (&net.Dialer{}).DialContext,
		DisableKeepAlives:   true,
		DisableCompression:  true,
		MaxIdleConnsPerHost: -1,
	}
	return &checker{client: &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

func (c *checker) check(ctx context.Context, p spec.Probe, t Target) error {
	p = withDefaults(p)
	ctx, cancel := context.WithTimeout(ctx, p.Timeout.D())
	defer cancel()
	switch {
	case p.HTTP != nil:
		return c.checkHTTP(ctx, p, t)
	case p.TCP != nil:
		return checkTCP(ctx, t)
	case p.Exec != nil:
		return checkExec(ctx, p, t)
	}
	return errors.New("probe has no http, tcp or exec check")
}

func (c *checker) checkHTTP(ctx context.Context, p spec.Probe, t Target) error {
	path := p.HTTP.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	op := "GET " + path
	if t.Addr == "" {
		return fmt.Errorf("%s: instance has no address", op)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.Addr+path, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if p.HTTP.Host != "" {
		req.Host = p.HTTP.Host
	}
	req.Header.Set("User-Agent", "cutover-probe")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, describe(ctx, p, err))
	}
	defer resp.Body.Close()
	_, _ = io.CopyN(io.Discard, resp.Body, bodyLimit)
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("%s: status %d", op, resp.StatusCode)
	}
	return nil
}

func checkTCP(ctx context.Context, t Target) error {
	if t.Addr == "" {
		return errors.New("tcp: instance has no address")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && ctx.Err() == nil {
			err = op.Err
		}
		return fmt.Errorf("tcp %s: %w", t.Addr, err)
	}
	return conn.Close()
}

// describe shortens a client error: the URL is already in the operation, and a timeout is
// said as such.
func describe(ctx context.Context, p spec.Probe, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timeout after %v: %w", p.Timeout.D(), context.DeadlineExceeded)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
