package h1

import (
	"io"
	"net/http"
	"sync"
)

// body is a Content-Length request body: the bytes already read with the head first, then the
// connection. A transport may read it from its own goroutine, even after the handler returned
// (full duplex), so reads and the loop's end of the request take its lock; once ended, reads
// fail and the loop owns the connection's bytes again.
type body struct {
	mu     sync.Mutex
	c      *conn
	remain int64
	ended  bool
	err    error // a read error of the connection, sticky
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.ended:
		return 0, http.ErrBodyReadAfterClose
	case b.err != nil:
		return 0, b.err
	case b.remain == 0:
		return 0, io.EOF
	case len(p) == 0:
		return 0, nil
	}
	if int64(len(p)) > b.remain {
		p = p[:b.remain]
	}
	n, err := b.c.readBody(p)
	b.remain -= int64(n)
	if err == io.EOF && b.remain > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		b.err = err
		return n, err
	}
	if b.remain == 0 {
		return n, io.EOF
	}
	return n, nil
}

// Close does nothing: the loop ends the body when the handler returns.
func (b *body) Close() error { return nil }

// end stops reads and returns the bytes left unread and whether the connection may still be
// read (no read error).
func (b *body) end() (remain int64, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ended = true
	return b.remain, b.err == nil
}
