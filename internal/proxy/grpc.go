package proxy

import (
	"net/http"
	"strings"
)

// isGRPC reports whether resp is a gRPC answer, whose outcome is its grpc-status (in the
// trailers, or in the headers of a trailers-only answer) rather than its HTTP status.
func isGRPC(resp *http.Response) bool {
	return strings.HasPrefix(resp.Header.Get("Content-Type"), "application/grpc")
}

// grpcOutcome maps a finished gRPC answer to the HTTP status the judge counts: codes that
// say the server failed (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
// DATA_LOSS) count as 5xx; codes a client's own request causes (INVALID_ARGUMENT, NOT_FOUND,
// PERMISSION_DENIED…) as 4xx, so that no client can make a revision look failing; OK as 200.
// An answer with no grpc-status at all was cut: 502.
func grpcOutcome(resp *http.Response) int {
	code := resp.Trailer.Get("Grpc-Status")
	if code == "" {
		code = resp.Header.Get("Grpc-Status")
	}
	switch code {
	case "0":
		return http.StatusOK
	case "":
		return http.StatusBadGateway
	case "2", "13", "15":
		return http.StatusInternalServerError
	case "4":
		return http.StatusGatewayTimeout
	case "12":
		return http.StatusNotImplemented
	case "14":
		return http.StatusServiceUnavailable
	case "8":
		return http.StatusTooManyRequests
	default:
		return http.StatusBadRequest
	}
}

// copyTrailers sets the upstream's trailers on the answer. They are announced (Trailer) when
// the upstream declared them; HTTP/2 upstreams such as gRPC servers send them undeclared, so
// they are written under http.TrailerPrefix, which net/http sends as trailers either way.
func copyTrailers(h, trailer http.Header) {
	for k, vv := range trailer {
		h[http.TrailerPrefix+k] = vv
	}
}
