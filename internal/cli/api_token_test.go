package cli_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cli"
)

// TestServeAPIFlagsRefuseBadValues: each bad API flag is a usage error naming it, and the
// daemon is not started.
func TestServeAPIFlagsRefuseBadValues(t *testing.T) {
	started := false
	cmds := cli.Commands{Serve: func(context.Context, cli.ServeOptions) error { started = true; return nil }}
	for flag, args := range map[string][]string{
		"--api-tls-cert":            {"--api-tls-cert", "a.crt"},
		"--api-max-body-bytes":      {"--api-max-body-bytes", "2000000"},
		"--api-max-header-bytes":    {"--api-max-header-bytes", "10"},
		"--api-read-header-timeout": {"--api-read-header-timeout", "0s"},
		"--api-idle-timeout":        {"--api-idle-timeout", "-1s"},
	} {
		r := runWith(t, cmds, append([]string{"--state", t.TempDir(), "serve"}, args...)...)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, flag) || started {
			t.Errorf("serve %v: exit %d, stderr %q, started %v; want a usage error naming %s", args, r.code, r.stderr, started, flag)
		}
	}
}

// TestTokenRotateRefusesBadGrace: a bad --grace never reaches the daemon.
func TestTokenRotateRefusesBadGrace(t *testing.T) {
	for _, g := range []string{"-1s", "25h"} {
		r := runWith(t, cli.Commands{}, "--state", t.TempDir(), "--addr", "127.0.0.1:1", "--token", "x",
			"token", "rotate", "--grace", g)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--grace") {
			t.Errorf("token rotate --grace %s: exit %d %q, want a usage error naming --grace", g, r.code, r.stderr)
		}
	}
}
