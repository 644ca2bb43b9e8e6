package h1

import (
	"bufio"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// response is the http.ResponseWriter of one request. Its head is written to the connection's
// buffer at WriteHeader; the body follows with its Content-Length when the handler set one,
// chunked otherwise (with the trailers the handler declared), and the buffer is flushed when
// the handler returns or calls Flush.
type response struct {
	bw       *bufio.Writer
	header   http.Header // reused by the connection's requests
	dates    *dateCache
	head     bool // HEAD request: no body
	status   int
	wrote    bool  // the head is written
	chunked  bool  // the body is chunk-encoded
	length   int64 // the declared Content-Length; -1 none
	written  int64
	close    bool         // the connection closes after this answer
	closing  *atomic.Bool // the server is shutting down: answer with Connection: close
	werr     error
	trailers []string
}

func (w *response) reset(bw *bufio.Writer, head, closeAfter bool) {
	clear(w.header)
	w.bw, w.head, w.close = bw, head, closeAfter
	w.status, w.wrote, w.chunked, w.length, w.written, w.werr = 0, false, false, -1, 0, nil
	w.trailers = w.trailers[:0]
}

func (w *response) Header() http.Header { return w.header }

// EnableFullDuplex lets http.ResponseController enable full duplex: reading the body while
// writing the answer is always allowed here.
func (w *response) EnableFullDuplex() error { return nil }

var errContentLength = errors.New("h1: wrote more than the declared Content-Length")

func (w *response) WriteHeader(code int) {
	if w.wrote {
		return
	}
	if code < 100 || code > 999 {
		panic("h1: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code < 200 {
		return // informational answers from a handler are not passed on here
	}
	w.status, w.wrote = code, true
	h := w.header
	if v := h["Content-Length"]; len(v) == 1 {
		if n, ok := parseLength(v[0]); ok {
			w.length = n
		}
	}
	bodyless := w.head || code == http.StatusNoContent || code == http.StatusNotModified
	if w.length < 0 && !bodyless {
		w.chunked = true
		delete(h, "Content-Length")
		for _, v := range h["Trailer"] {
			for t := range strings.SplitSeq(v, ",") {
				if t = trimOWS(t); t != "" {
					w.trailers = append(w.trailers, http.CanonicalHeaderKey(t))
				}
			}
		}
	}
	if c := h["Connection"]; len(c) > 0 && hasToken(c[0], "close") {
		w.close = true
	}
	if w.closing.Load() {
		w.close = true
	}
	w.writeHead()
}

func (w *response) writeHead() {
	bw := w.bw
	bw.WriteString(statusLine(w.status))
	for k, vv := range w.header {
		if !validName(k) || k == "Transfer-Encoding" || k == "Connection" || k == "Trailer" && !w.chunked {
			continue
		}
		for _, v := range vv {
			bw.WriteString(k)
			bw.WriteString(": ")
			writeValue(bw, v)
			bw.WriteString("\r\n")
		}
	}
	if _, ok := w.header["Date"]; !ok {
		bw.WriteString("Date: ")
		bw.Write(w.dates.get())
		bw.WriteString("\r\n")
	}
	if w.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if w.close {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("\r\n")
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.werr != nil {
		return 0, w.werr
	}
	if w.head || w.status == http.StatusNoContent || w.status == http.StatusNotModified {
		return len(p), nil
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := len(p)
	if w.length >= 0 && w.written+int64(n) > w.length {
		n = int(w.length - w.written)
		w.close = true
	}
	if w.chunked {
		w.bw.WriteString(strconv.FormatInt(int64(n), 16))
		w.bw.WriteString("\r\n")
	}
	m, err := w.bw.Write(p[:n])
	w.written += int64(m)
	if w.chunked && err == nil {
		_, err = w.bw.WriteString("\r\n")
	}
	if err != nil {
		w.werr = err
		return m, err
	}
	if n < len(p) {
		return n, errContentLength
	}
	return n, nil
}

// Flush sends what is buffered.
func (w *response) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.werr == nil {
		w.werr = w.bw.Flush()
	}
}

// finish ends the answer once the handler returned and reports whether the connection may
// serve another request.
func (w *response) finish() bool {
	if !w.wrote {
		w.header["Content-Length"] = []string{"0"}
		w.WriteHeader(http.StatusOK)
	}
	if w.chunked {
		w.bw.WriteString("0\r\n")
		for _, k := range w.trailers {
			w.writeTrailer(k, w.header[k])
		}
		for k, vv := range w.header {
			if tk, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
				w.writeTrailer(http.CanonicalHeaderKey(tk), vv)
			}
		}
		w.bw.WriteString("\r\n")
	}
	if w.length >= 0 && w.written < w.length && !w.head && w.status != http.StatusNoContent && w.status != http.StatusNotModified {
		w.close = true // the client would wait for the bytes that never come
	}
	if w.werr == nil {
		w.werr = w.bw.Flush()
	}
	return w.werr == nil && !w.close
}

func (w *response) writeTrailer(k string, vv []string) {
	if !validName(k) {
		return
	}
	for _, v := range vv {
		w.bw.WriteString(k)
		w.bw.WriteString(": ")
		writeValue(w.bw, v)
		w.bw.WriteString("\r\n")
	}
}

func validName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !tchar[k[i]] {
			return false
		}
	}
	return true
}

// writeValue writes a header value with CR and LF turned into spaces and the white space
// around it removed, as http.Header.Write does.
func writeValue(bw *bufio.Writer, v string) {
	v = trimOWS(v)
	for {
		i := strings.IndexAny(v, "\r\n")
		if i < 0 {
			bw.WriteString(v)
			return
		}
		bw.WriteString(v[:i])
		bw.WriteByte(' ')
		v = v[i+1:]
	}
}

// statusLines caches the common status lines.
var statusLines = func() (m [600]string) {
	for code := 200; code < 600; code++ {
		if t := http.StatusText(code); t != "" {
			m[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + t + "\r\n"
		}
	}
	return m
}()

func statusLine(code int) string {
	if code < len(statusLines) && statusLines[code] != "" {
		return statusLines[code]
	}
	return "HTTP/1.1 " + strconv.Itoa(code) + " status code " + strconv.Itoa(code) + "\r\n"
}
