package cli_test

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cli"
)

// TestServeProxyFlags checks the proxy flags of serve: their defaults, their values reaching
// the daemon's options, and bad values refused naming the flag, the daemon never started.
func TestServeProxyFlags(t *testing.T) {
	var got *cli.ServeOptions
	cmds := cli.Commands{Serve: func(_ context.Context, o cli.ServeOptions) error { got = &o; return nil }}
	state := t.TempDir()

	if r := runWith(t, cmds, "--state", state, "serve"); r.code != 0 || got == nil {
		t.Fatalf("serve: exit %d, stderr %q", r.code, r.stderr)
	}
	if got.ProxyReadHeaderTimeout != 10*time.Second || got.ProxyIdleTimeout != 2*time.Minute ||
		got.ProxyMaxHeaderBytes != 64<<10 || got.TrustedProxies != nil {
		t.Errorf("defaults: %+v", *got)
	}

	got = nil
	r := runWith(t, cmds, "--state", state, "serve", "--read-header-timeout", "3s", "--idle-timeout", "30s",
		"--max-header-bytes", "8192", "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "192.168.1.7", "--trusted-proxy", "::1")
	if r.code != 0 || got == nil {
		t.Fatalf("serve with proxy flags: exit %d, stderr %q", r.code, r.stderr)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("::1/128")}
	if got.ProxyReadHeaderTimeout != 3*time.Second || got.ProxyIdleTimeout != 30*time.Second ||
		got.ProxyMaxHeaderBytes != 8192 || !reflect.DeepEqual(got.TrustedProxies, want) {
		t.Errorf("flags: got %v %v %d %v", got.ProxyReadHeaderTimeout, got.ProxyIdleTimeout, got.ProxyMaxHeaderBytes, got.TrustedProxies)
	}

	for _, tc := range []struct{ args, want string }{
		{"--read-header-timeout 0s", "--read-header-timeout"},
		{"--idle-timeout -1s", "--idle-timeout"},
		{"--max-header-bytes 10", "--max-header-bytes 10"},
		{"--trusted-proxy 10.0.0.0/33", `--trusted-proxy "10.0.0.0/33"`},
		{"--trusted-proxy example.com", `--trusted-proxy "example.com"`},
	} {
		got = nil
		args := append([]string{"--state", state, "serve"}, strings.Fields(tc.args)...)
		r := runWith(t, cmds, args...)
		if r.code == 0 || got != nil || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("serve %s: exit %d, daemon started %v, stderr %q; want a usage error naming %s", tc.args, r.code, got != nil, r.stderr, tc.want)
		}
	}
}
