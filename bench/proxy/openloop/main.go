// Command openloop is the proxy comparison's open-loop load generator: it sends GET requests
// to one loopback address at a constant rate and prints one JSON line with exact latency
// percentiles. Request i is scheduled at start + i/rate whatever happened before it, and its
// latency is measured from that scheduled time to the last byte of the response, so a target
// that stalls is charged for every request it delayed (no coordinated omission). Requests go
// over a fixed pool of keep-alive connections (-conns, default sized to the rate), one request
// at a time per connection; a request whose time has come while every connection is busy
// waits for one, and that wait counts in its latency.
//
// It is built for a small shared machine where vegeta could not keep up: the request is
// written from a fixed byte slice, the response is read with a minimal HTTP/1.1 parser
// (Content-Length bodies only, which every target of the bench sends), and each connection
// waits for its next scheduled time on its own timerfd, which wakes it within microseconds
// where a Go timer may be up to a millisecond late. Every run is bounded: nothing is sent
// after -duration plus -timeout, and each request is bounded by -timeout. It refuses any
// address that is not loopback.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	addr     string
	host     string
	path     string
	rate     int
	duration time.Duration
	conns    int
	timeout  time.Duration
}

func parseConfig(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("openloop", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "", "target address host:port (loopback only)")
	fs.StringVar(&c.host, "host", "", "Host header (default: -addr)")
	fs.StringVar(&c.path, "path", "/", "request path")
	fs.IntVar(&c.rate, "rate", 0, "requests per second")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "how long to schedule requests")
	fs.IntVar(&c.conns, "conns", 0, "keep-alive connections (default: rate/200, between 8 and 256)")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "bound on each request, from its scheduled time")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := c.validate(); err != nil {
		return c, err
	}
	if c.host == "" {
		c.host = c.addr
	}
	if c.conns == 0 {
		c.conns = min(max(c.rate/200, 8), 256)
	}
	return c, nil
}

func (c config) validate() error {
	host, _, err := net.SplitHostPort(c.addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", c.addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-addr %q: not a loopback address", c.addr)
	}
	switch {
	case c.rate < 1:
		return fmt.Errorf("-rate %d: must be at least 1", c.rate)
	case c.duration < 10*time.Millisecond:
		return fmt.Errorf("-duration %s: must be at least 10ms", c.duration)
	case c.conns < 0 || c.conns > 4096:
		return fmt.Errorf("-conns %d: must be between 1 and 4096 (0: sized to the rate)", c.conns)
	case c.timeout <= 0:
		return fmt.Errorf("-timeout %s: must be positive", c.timeout)
	case len(c.path) == 0 || c.path[0] != '/':
		return fmt.Errorf("-path %q: must start with /", c.path)
	}
	return nil
}

func main() {
	c, err := parseConfig(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "openloop: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, c)
	if err != nil {
		fmt.Fprintf(os.Stderr, "openloop: %v\n", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintf(os.Stderr, "openloop: write result: %v\n", err)
		os.Exit(1)
	}
}
