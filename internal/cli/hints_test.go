package cli_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/api/apitest"
	"github.com/cutover/cutover/internal/cli"
)

// A stale address file (its daemon ended) names the file, the address and how to start one.
func TestStaleAddressFileHint(t *testing.T) {
	t.Setenv("CUTOVER_ADDR", "")
	t.Setenv("CUTOVER_TOKEN", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	state := t.TempDir()
	file := filepath.Join(state, "api.addr")
	os.WriteFile(file, []byte(addr+"\n"), 0o600)
	os.WriteFile(filepath.Join(state, "token"), []byte("t\n"), 0o600)
	r := runWith(t, cli.Commands{}, "--state", state, "status")
	if r.code != cli.ExitError || !strings.Contains(r.stderr, "connection refused") ||
		!strings.Contains(r.stderr, "daemon at the address in "+file+" is not running") ||
		!strings.Contains(r.stderr, "cutover serve --state "+state) {
		t.Errorf("stale address file: exit %d, stderr %q", r.code, r.stderr)
	}
}

// A refused token says where it came from: the flag, the variable or the file.
func TestUnauthorizedNamesTokenSource(t *testing.T) {
	url := daemon(t, &apitest.Backend{})
	state := t.TempDir()
	file := filepath.Join(state, "token")
	os.WriteFile(file, []byte("wrong-from-file\n"), 0o600)
	for _, c := range []struct {
		env, flag, want string
	}{
		{"", "wrong", "token from --token"},
		{"wrong", "", "token from $CUTOVER_TOKEN"},
		{"", "", "token from " + file},
	} {
		t.Setenv("CUTOVER_TOKEN", c.env)
		args := []string{"--state", state, "--addr", url}
		if c.flag != "" {
			args = append(args, "--token", c.flag)
		}
		r := runWith(t, cli.Commands{}, append(args, "status")...)
		if r.code != cli.ExitUnauthorized || !strings.Contains(r.stderr, "the daemon refused the "+c.want) {
			t.Errorf("%s: exit %d, stderr %q", c.want, r.code, r.stderr)
		}
	}
}
