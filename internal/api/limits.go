package api

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"time"
)

// Defaults of Limits.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 64 << 10
)

// Limits bound what one connection or request may cost the control API's server. Zero
// fields take the defaults. There is no read or write timeout on the whole request: event
// long polls and log streams last.
type Limits struct {
	// ReadHeaderTimeout bounds the time to read a request's headers (slowloris); default 10s.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long; default 2m.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's header block; default 64 KiB. Beyond it: 431.
	MaxHeaderBytes int
	// MaxBodyBytes bounds a request's body; default and most MaxBodyBytes (1 MiB), which
	// every handler enforces too. Beyond it: 413, and nothing is changed.
	MaxBodyBytes int64
}

// withDefaults fills in zero fields.
func (l Limits) withDefaults() Limits {
	if l.ReadHeaderTimeout == 0 {
		l.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxBodyBytes == 0 {
		l.MaxBodyBytes = MaxBodyBytes
	}
	return l
}

// Validate refuses negative limits and a body limit above MaxBodyBytes, naming the field.
func (l Limits) Validate() error {
	switch {
	case l.ReadHeaderTimeout < 0:
		return fmt.Errorf("api read header timeout %s: want 0 (default) or more", l.ReadHeaderTimeout)
	case l.IdleTimeout < 0:
		return fmt.Errorf("api idle timeout %s: want 0 (default) or more", l.IdleTimeout)
	case l.MaxHeaderBytes < 0:
		return fmt.Errorf("api max header bytes %d: want 0 (default) or more", l.MaxHeaderBytes)
	case l.MaxBodyBytes < 0 || l.MaxBodyBytes > MaxBodyBytes:
		return fmt.Errorf("api max body bytes %d: want 0 (default) to %d", l.MaxBodyBytes, MaxBodyBytes)
	}
	return nil
}

// NewServer returns the control API's server for h under the limits (zero fields:
// defaults). With tlsConf it serves HTTPS only: use ServeTLS(ln, "", ""). The caller sets
// anything else (shutdown hooks) and serves it.
func NewServer(h http.Handler, l Limits, tlsConf *tls.Config) *http.Server {
	l = l.withDefaults()
	return &http.Server{
		Handler:           LimitBody(l.MaxBodyBytes, h),
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		TLSConfig:         tlsConf,
	}
}

// LimitBody wraps next so that a request declaring a body above max is answered 413 before
// next sees it, and a body that grows past max (chunked) fails to read with an
// *http.MaxBytesError, which the handlers answer with 413 before changing anything.
func LimitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusRequestEntityTooLarge,
				ErrorBody{Error: fmt.Sprintf("request body of %d bytes is over the limit of %d", r.ContentLength, max)})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}
