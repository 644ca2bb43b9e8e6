package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// conn is one keep-alive HTTP/1.1 client connection that sends the same request each time.
type conn struct {
	addr string
	req  []byte
	nc   net.Conn
	br   *bufio.Reader
}

func newConn(addr string, req []byte) *conn {
	return &conn{addr: addr, req: req}
}

// requestBytes is the request every connection sends.
func requestBytes(host, path string) []byte {
	return fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: openloop\r\n\r\n", path, host)
}

// do sends the request and reads the whole response before deadline; it returns the status.
// After an error the connection is closed and the next call dials a new one.
func (c *conn) do(deadline time.Time) (int, error) {
	if c.nc == nil {
		d := net.Dialer{Deadline: deadline}
		nc, err := d.Dial("tcp", c.addr)
		if err != nil {
			return 0, fmt.Errorf("dial: %w", err)
		}
		c.nc = nc
		if c.br == nil {
			c.br = bufio.NewReaderSize(nc, 16<<10)
		} else {
			c.br.Reset(nc)
		}
	}
	status, keep, err := c.roundTrip(deadline)
	if err != nil || !keep {
		c.close()
	}
	return status, err
}

func (c *conn) close() {
	if c.nc != nil {
		c.nc.Close()
		c.nc = nil
	}
}

func (c *conn) roundTrip(deadline time.Time) (int, bool, error) {
	if err := c.nc.SetDeadline(deadline); err != nil {
		return 0, false, fmt.Errorf("set deadline: %w", err)
	}
	if _, err := c.nc.Write(c.req); err != nil {
		return 0, false, fmt.Errorf("write: %w", err)
	}
	return readResponse(c.br)
}

var errFraming = errors.New("response without Content-Length")

// readResponse reads one response whose body is delimited by Content-Length (or empty for
// 1xx-less 204/304) and discards the body. It returns the status and whether the connection
// may be reused.
func readResponse(br *bufio.Reader) (status int, keep bool, err error) {
	line, err := readLine(br)
	if err != nil {
		return 0, false, fmt.Errorf("read status line: %w", err)
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	keep = line[7] == '1'
	length := int64(-1)
	for {
		line, err = readLine(br)
		if err != nil {
			return status, false, fmt.Errorf("read header: %w", err)
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return status, false, fmt.Errorf("bad header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "content-length"):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return status, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case asciiEqualFold(name, "transfer-encoding"):
			return status, false, errFraming
		case asciiEqualFold(name, "connection"):
			if asciiEqualFold(value, "close") {
				keep = false
			} else if asciiEqualFold(value, "keep-alive") {
				keep = true
			}
		}
	}
	if length < 0 {
		if status == 204 || status == 304 {
			return status, keep, nil
		}
		return status, false, errFraming
	}
	if _, err := br.Discard(int(length)); err != nil {
		return status, false, fmt.Errorf("read body: %w", err)
	}
	return status, keep, nil
}

// readLine returns one CRLF-terminated line without its terminator; the slice is valid until
// the next read.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x := b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if x != s[i] {
			return false
		}
	}
	return true
}
