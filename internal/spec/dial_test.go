package spec

import "testing"

func TestDialAddr(t *testing.T) {
	for listen, want := range map[string]string{
		":8080":          "127.0.0.1:8080",
		"0.0.0.0:8080":   "127.0.0.1:8080",
		"127.0.0.2:9090": "127.0.0.2:9090",
		"[::1]:8080":     "[::1]:8080",
	} {
		if got := DialAddr(listen); got != want {
			t.Errorf("DialAddr(%q) = %q, want %q", listen, got, want)
		}
	}
}
