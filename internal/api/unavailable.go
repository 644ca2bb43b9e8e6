package api

import (
	"errors"
	"net/http"
)

// ErrUnavailable is wrapped by Backend errors that come from the host, not from the request:
// the state cannot be written (disk full, read-only file system). The API answers 503 with
// the error's message and a Retry-After; the client's *Error unwraps to it. An error may also
// mark itself so with a method Unavailable() bool, which lets the store say it without
// importing this package.
var ErrUnavailable = errors.New("unavailable")

// retryAfterUnavailable is the Retry-After of a 503, in seconds.
const retryAfterUnavailable = "5"

// isUnavailable reports whether err is a condition of the host.
func isUnavailable(err error) bool {
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	var u interface{ Unavailable() bool }
	return errors.As(err, &u) && u.Unavailable()
}

// markUnavailable sets the headers of a 503 answer.
func markUnavailable(w http.ResponseWriter, status int) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterUnavailable)
	}
}
