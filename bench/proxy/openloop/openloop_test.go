package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name, in   string
		wantStatus int
		wantKeep   bool
		wantErr    bool
		wantRest   string // what is left in the reader: the response must be consumed exactly
	}{
		{name: "content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloNEXT", wantStatus: 200, wantKeep: true, wantRest: "NEXT"},
		{name: "header case and spaces", in: "HTTP/1.1 503 Busy\r\ncontent-LENGTH:  2 \r\n\r\nabNEXT", wantStatus: 503, wantKeep: true, wantRest: "NEXT"},
		{name: "connection close", in: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", wantStatus: 200},
		{name: "http/1.0", in: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", wantStatus: 200},
		{name: "http/1.0 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", wantStatus: 200, wantKeep: true},
		{name: "204 without length", in: "HTTP/1.1 204 No Content\r\n\r\nNEXT", wantStatus: 204, wantKeep: true, wantRest: "NEXT"},
		{name: "chunked refused", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", wantErr: true},
		{name: "no length", in: "HTTP/1.1 200 OK\r\n\r\nbody", wantErr: true},
		{name: "negative length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", wantErr: true},
		{name: "short body", in: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", wantErr: true},
		{name: "bad status line", in: "HTTP/2 200\r\n\r\n", wantErr: true},
		{name: "bad header", in: "HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", wantErr: true},
		{name: "eof in header", in: "HTTP/1.1 200 OK\r\nContent-Len", wantErr: true},
	}
	for _, tt := range tests {
		br := bufio.NewReader(strings.NewReader(tt.in))
		status, keep, err := readResponse(br)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: readResponse(%q) error = %v, want error %v", tt.name, tt.in, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		rest := make([]byte, 64)
		n, _ := br.Read(rest)
		if status != tt.wantStatus || keep != tt.wantKeep || string(rest[:n]) != tt.wantRest {
			t.Errorf("%s: readResponse(%q) = %d, keep %v, rest %q; want %d, keep %v, rest %q",
				tt.name, tt.in, status, keep, rest[:n], tt.wantStatus, tt.wantKeep, tt.wantRest)
		}
	}
}

func TestParseConfig(t *testing.T) {
	bad := map[string][]string{
		"-addr":     {"-addr", "10.0.0.1:80", "-rate", "10"},
		"-rate":     {"-addr", "127.0.0.1:80", "-rate", "0"},
		"-duration": {"-addr", "127.0.0.1:80", "-rate", "10", "-duration", "1ms"},
		"-conns":    {"-addr", "127.0.0.1:80", "-rate", "10", "-conns", "-1"},
		"-timeout":  {"-addr", "127.0.0.1:80", "-rate", "10", "-timeout", "0s"},
		"-path":     {"-addr", "127.0.0.1:80", "-rate", "10", "-path", "x"},
	}
	for field, args := range bad {
		_, err := parseConfig(args)
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("parseConfig(%q) error = %v, want one naming %s", args, err, field)
		}
	}
	c, err := parseConfig([]string{"-addr", "127.0.0.1:80", "-rate", "10000"})
	if err != nil || c.conns != 50 || c.host != "127.0.0.1:80" {
		t.Errorf("parseConfig(rate 10000) = %+v, %v; want 50 conns, host 127.0.0.1:80", c, err)
	}
}

// TestRunCountsEveryRequest runs the generator against a real server on loopback: every
// scheduled request arrives exactly once, is counted by status, and a slow answer is charged
// from the request's scheduled time.
func TestRunCountsEveryRequest(t *testing.T) {
	var served, slow atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1)
		if r.Header.Get("User-Agent") != "openloop" || r.Host != "example.test" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch {
		case n == 1:
			// The warm-up request of the only connection.
		case n%10 == 0:
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case n == 25 && slow.Add(1) == 1:
			time.Sleep(300 * time.Millisecond) // every request queued behind this one waits too
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().(*net.TCPAddr).String()
	c, err := parseConfig([]string{"-addr", addr, "-host", "example.test", "-rate", "200", "-duration", "500ms", "-conns", "1"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := run(context.Background(), c)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if res.Scheduled != 100 || res.OK+res.Failed != 100 || res.Unsent != 0 {
		t.Fatalf("run = %+v; want 100 scheduled, all sent", res)
	}
	if got := served.Load(); got != 101 {
		t.Errorf("server saw %d requests, want 100 and the warm-up", got)
	}
	if res.Failed != 10 || res.Errors["status 503"] != 10 {
		t.Errorf("failed = %d (%v), want the 10 answered 503", res.Failed, res.Errors)
	}
	// With one connection, the ~60 requests due during the 300 ms stall all went out when it
	// ended; measured from their due times, more than half of all requests took 20 ms or more
	// (measured from when they were written, only the stalled one would have).
	if res.P50 < 20_000 || res.Max < 290_000 || res.LagP99 < 200_000 {
		t.Errorf("p50 %.0f µs, max %.0f µs, send lag p99 %.0f µs; want the stall charged to the requests due during it",
			res.P50, res.Max, res.LagP99)
	}
}

func TestRunRefusesDeadTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := parseConfig([]string{"-addr", addr, "-rate", "10", "-duration", "100ms", "-timeout", "1s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(context.Background(), c); err == nil || !strings.Contains(err.Error(), "warm-up") {
		t.Errorf("run against a closed port: error = %v, want the warm-up request's", err)
	}
}
