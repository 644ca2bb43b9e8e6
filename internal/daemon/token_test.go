package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/testbin"
)

// cutoverCLI runs the real binary with args and returns stdout, stderr and the exit code.
func cutoverCLI(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testbin.Cutover(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run cutover %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// assertMode checks a path's permission bits.
func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("%s has mode %#o, want %#o", path, got, want)
	}
}

// rawStatus sends GET path with the bearer token and returns the status and body.
func rawStatus(t *testing.T, addr, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTokenRotation runs the real daemon and CLI: the state directory and token file are
// private; `cutover token rotate` replaces the token in the file, the old one is refused at
// once (without --grace) with the same 401 as any wrong token, the CLI goes on with the file;
// with --grace the old one is admitted until a later rotation replaces it; no token is
// logged or put in events.
func TestTokenRotation(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	p := startServe(t, state)
	tokenFile := filepath.Join(state, "token")
	assertMode(t, state, 0o700)
	assertMode(t, tokenFile, 0o600)
	assertMode(t, filepath.Join(state, "state.db"), 0o600)
	addrBytes, err := os.ReadFile(filepath.Join(state, "api.addr"))
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSpace(string(addrBytes))
	first := readToken(t, tokenFile)
	if code, _ := rawStatus(t, addr, "/v1/services", first); code != 200 {
		t.Fatalf("first token: status %d", code)
	}
	_, wrongBody := rawStatus(t, addr, "/v1/services", "not-the-token")

	out, errOut, code := cutoverCLI(t, nil, "--state", state, "-o", "json", "token", "rotate")
	if code != 0 {
		t.Fatalf("token rotate: exit %d: %s", code, errOut)
	}
	var res struct {
		Token string `json:"token"`
		File  string `json:"file"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.File != tokenFile || res.Token != "" {
		t.Errorf("token rotate -o json printed %q (%v): want the file and no token without --show", out, err)
	}
	second := readToken(t, tokenFile)
	assertMode(t, tokenFile, 0o600)
	if second == first {
		t.Fatalf("token file unchanged by rotate")
	}
	for _, path := range []string{"/v1/services", "/metrics", "/v1/events"} {
		code, body := rawStatus(t, addr, path, first)
		if code != http.StatusUnauthorized || body != wrongBody {
			t.Errorf("GET %s with the rotated-out token: %d %q, want 401 %q as for any wrong token", path, code, body, wrongBody)
		}
	}
	if code := ofrepStatus(t, addr, first, "any"); code != http.StatusUnauthorized {
		t.Errorf("OFREP with the rotated-out token: %d, want 401", code)
	}
	if _, errOut, code := cutoverCLI(t, nil, "--state", state, "status"); code != 0 {
		t.Errorf("status after rotate (token from the file): exit %d: %s", code, errOut)
	}

	out, errOut, code = cutoverCLI(t, nil, "--state", state, "token", "rotate", "--grace", "1h", "--show")
	third := readToken(t, tokenFile)
	if code != 0 || !strings.Contains(out, third) || !strings.Contains(out, "refused from") {
		t.Fatalf("token rotate --grace 1h --show: exit %d, %q %s; want the new token shown", code, out, errOut)
	}
	for name, tok := range map[string]string{"second (in grace)": second, "third": third} {
		if code, _ := rawStatus(t, addr, "/v1/services", tok); code != 200 {
			t.Errorf("%s token: status %d, want 200", name, code)
		}
	}
	if _, _, code := cutoverCLI(t, nil, "--state", state, "token", "rotate"); code != 0 {
		t.Fatalf("third rotate: exit %d", code)
	}
	fourth := readToken(t, tokenFile)
	for name, tok := range map[string]string{"second": second, "third": third, "fourth": fourth} {
		want := http.StatusUnauthorized
		if name == "fourth" {
			want = 200
		}
		if code, _ := rawStatus(t, addr, "/v1/services", tok); code != want {
			t.Errorf("%s token after a rotation without grace: status %d, want %d", name, code, want)
		}
	}
	if _, errOut, code := cutoverCLI(t, nil, "--state", state, "token", "rotate", "--grace", "-1s"); code != 2 ||
		!strings.Contains(errOut, "--grace") || readToken(t, tokenFile) != fourth {
		t.Errorf("token rotate --grace -1s: exit %d %q; want 2 naming --grace, token unchanged", code, errOut)
	}

	events, err := api.NewClient(addr, fourth).Events(context.Background(), api.EventQuery{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	rotations := 0
	all, _ := json.Marshal(events)
	for _, e := range events {
		if e.Type == "token_rotated" {
			rotations++
		}
	}
	if rotations != 3 {
		t.Errorf("%d token_rotated events, want 3", rotations)
	}
	// The log is read once the daemon has exited: it writes to the buffer until then.
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("daemon exit: %v\n%s", err, p.log)
	}
	if !strings.Contains(p.log.String(), "api token rotated") {
		t.Errorf("the daemon's log does not record the rotations:\n%s", p.log)
	}
	for _, tok := range []string{first, second, third, fourth} {
		if strings.Contains(string(all), tok) || strings.Contains(p.log.String(), tok) {
			t.Errorf("a token shows in the events or the daemon's log")
		}
	}
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	tok, err := api.ReadToken(path)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
