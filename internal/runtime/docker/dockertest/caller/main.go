// Command caller is a client for test images built FROM scratch: it sends GET $URL at $RATE
// requests a second (default 50) for $DURATION (default 2m), each bounded by 2s, and prints
// every second "ok=N failed=M" (failed: an error or a status other than 200) and each
// failure's reason, then exits 0. With RESOLVE=once it resolves the URL's host once, at
// start, and dials the first address for every request, as clients that cache a name's
// address do. It is built statically by dockertest.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"strconv"
	"time"
)

func main() {
	url := os.Getenv("URL")
	rate, err := strconv.Atoi(os.Getenv("RATE"))
	if err != nil || rate <= 0 {
		rate = 50
	}
	duration, err := time.ParseDuration(os.Getenv("DURATION"))
	if err != nil || duration <= 0 {
		duration = 2 * time.Minute
	}
	c := &http.Client{Timeout: 2 * time.Second}
	if os.Getenv("RESOLVE") == "once" {
		c.Transport = pinned(url)
	}
	var ok, failed int
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	report := time.NewTicker(time.Second)
	defer report.Stop()
	end := time.After(duration)
	for {
		select {
		case <-end:
			fmt.Printf("ok=%d failed=%d\n", ok, failed)
			return
		case <-report.C:
			fmt.Printf("ok=%d failed=%d\n", ok, failed)
		case <-tick.C:
			if reason := get(c, url); reason != "" {
				failed++
				fmt.Println("fail:", reason)
			} else {
				ok++
			}
		}
	}
}

// get sends one request and returns why it failed, "" when it got 200.
func get(c *http.Client, url string) string {
	resp, err := c.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.Status
	}
	return ""
}

// pinned is a transport that dials the first address the URL's host resolves to now.
func pinned(rawURL string) http.RoundTripper {
	u, err := neturl.Parse(rawURL)
	if err != nil {
		fmt.Println("bad URL:", err)
		os.Exit(2)
	}
	addrs, err := net.LookupHost(u.Hostname())
	if err != nil || len(addrs) == 0 {
		fmt.Println("resolve:", err)
		os.Exit(2)
	}
	fmt.Println("resolved", u.Hostname(), "once:", addrs[0])
	target := net.JoinHostPort(addrs[0], u.Port())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 2 * time.Second}
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, target)
	}
	return tr
}
