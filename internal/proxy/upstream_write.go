package proxy

import (
	"bufio"
	"errors"
	"net/http"
	"net/textproto"
	"strings"
)

// writeHead writes the head of req, a request without a body (see direct), in HTTP/1.1 to bw.
// It writes what http.Request.Write would, without allocating: the request line, Host, the
// User-Agent if not empty, the other headers (Content-Length: 0 for the methods that expect a
// body), each value with CR and LF turned into spaces.
func writeHead(bw *bufio.Writer, req *http.Request) error {
	host := req.Host
	if host == "" && req.URL != nil {
		host = req.URL.Host
	}
	if host == "" {
		return errors.New("write request: no host")
	}
	bw.WriteString(req.Method)
	bw.WriteByte(' ')
	writeTarget(bw, req)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	writeValue(bw, host)
	bw.WriteString("\r\n")
	for k, vv := range req.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		for _, v := range vv {
			if k == "User-Agent" && v == "" {
				continue
			}
			bw.WriteString(k)
			bw.WriteString(": ")
			writeValue(bw, v)
			bw.WriteString("\r\n")
		}
	}
	switch req.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		bw.WriteString("Content-Length: 0\r\n")
	}
	_, err := bw.WriteString("\r\n")
	return err
}

// writeTarget writes the request target (path and query) as URL.RequestURI would.
func writeTarget(bw *bufio.Writer, req *http.Request) {
	u := req.URL
	if u.Opaque != "" || u.Scheme == "" && u.Host != "" {
		bw.WriteString(u.RequestURI())
		return
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	bw.WriteString(path)
	if u.ForceQuery || u.RawQuery != "" {
		bw.WriteByte('?')
		bw.WriteString(u.RawQuery)
	}
}

// writeValue writes a header value as http.Header.Write would: CR and LF turned into spaces,
// leading and trailing white space removed.
func writeValue(bw *bufio.Writer, v string) {
	v = textproto.TrimString(v)
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
