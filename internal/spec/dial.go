package spec

import "strings"

// DialAddr turns a listen address into one a client on this machine can dial: an empty or
// unspecified IPv4 host becomes 127.0.0.1 (":8080" and "0.0.0.0:8080" → "127.0.0.1:8080").
// Any other address is returned as it is.
func DialAddr(listen string) string {
	if strings.HasPrefix(listen, ":") {
		return "127.0.0.1" + listen
	}
	if rest, ok := strings.CutPrefix(listen, "0.0.0.0:"); ok {
		return "127.0.0.1:" + rest
	}
	return listen
}
