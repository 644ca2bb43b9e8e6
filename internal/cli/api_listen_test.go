package cli_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cli"
)

// TestServeRefusesPlainAPIOffLoopback is the review's reproduction: `serve --listen
// 0.0.0.0:0` served the plain-HTTP bearer API on every interface without a word. An API
// address that is not loopback is refused without TLS (exit 2, naming --insecure-listen, the
// daemon never started); --insecure-listen accepts it with a warning; loopback addresses and
// TLS need neither.
func TestServeRefusesPlainAPIOffLoopback(t *testing.T) {
	var started bool
	cmds := cli.Commands{Serve: func(context.Context, cli.ServeOptions) error { started = true; return nil }}
	state := t.TempDir()
	tls := []string{"--api-tls-cert", "c.pem", "--api-tls-key", "k.pem"}
	for _, tc := range []struct {
		args        []string
		ok, warning bool
	}{
		{[]string{"--listen", "0.0.0.0:0"}, false, false},
		{[]string{"--listen", ":7070"}, false, false},
		{[]string{"--listen", "[::]:0"}, false, false},
		{[]string{"--listen", "192.0.2.7:7070"}, false, false},
		{[]string{"--listen", "api.example:7070"}, false, false},
		{[]string{"--listen", "0.0.0.0:0", "--insecure-listen"}, true, true},
		{append([]string{"--listen", "0.0.0.0:0"}, tls...), true, false},
		{[]string{"--listen", "127.0.0.1:0"}, true, false},
		{[]string{"--listen", "127.3.4.5:7070"}, true, false},
		{[]string{"--listen", "[::1]:0"}, true, false},
		{[]string{"--listen", "localhost:7070"}, true, false},
		{nil, true, false}, // the default, 127.0.0.1:7070
	} {
		started = false
		r := runWith(t, cmds, append([]string{"--state", state, "serve"}, tc.args...)...)
		name := strings.Join(tc.args, " ")
		switch {
		case tc.ok && (r.code != 0 || !started):
			t.Errorf("serve %s: exit %d, started %v, stderr %q; want it served", name, r.code, started, r.stderr)
		case !tc.ok && (r.code != cli.ExitUsage || started || !strings.Contains(r.stderr, "--insecure-listen")):
			t.Errorf("serve %s: exit %d, started %v, stderr %q; want a usage error naming --insecure-listen", name, r.code, started, r.stderr)
		case tc.warning != strings.Contains(r.stderr, "warning"):
			t.Errorf("serve %s: stderr %q; want a warning: %v", name, r.stderr, tc.warning)
		}
	}
}
