package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
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

// TestAPIOverTLS runs the real daemon with --api-tls-cert/--api-tls-key: the address file
// says https, the CLI works with --ca or CUTOVER_CA and refuses the server without them, and
// plain HTTP gets no answer from the API. Half a TLS configuration is a usage error.
func TestAPIOverTLS(t *testing.T) {
	certFile, keyFile, _ := writeCert(t, t.TempDir())
	state := filepath.Join(t.TempDir(), "state")
	cmd := exec.Command(testbin.Cutover(t), "serve", "--state", state, "--listen", "127.0.0.1:0",
		"--api-tls-cert", certFile, "--api-tls-key", keyFile)
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var addr string
	waitFor(t, 20*time.Second, "address file", func() bool {
		b, err := os.ReadFile(filepath.Join(state, "api.addr"))
		addr = strings.TrimSpace(string(b))
		return err == nil && addr != ""
	})
	if !strings.HasPrefix(addr, "https://127.0.0.1:") {
		t.Fatalf("address file holds %q, want https://127.0.0.1:port", addr)
	}
	c, err := api.NewClientCA(addr, "", certFile)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "api healthy over TLS", func() bool { return c.Health(context.Background()) == nil })

	if _, errOut, code := cutoverCLI(t, nil, "--state", state, "--ca", certFile, "status"); code != 0 {
		t.Errorf("status --ca: exit %d: %s", code, errOut)
	}
	if _, errOut, code := cutoverCLI(t, []string{"CUTOVER_CA=" + certFile}, "--state", state, "status"); code != 0 {
		t.Errorf("status with CUTOVER_CA: exit %d: %s", code, errOut)
	}
	_, errOut, code := cutoverCLI(t, []string{"CUTOVER_CA="}, "--state", state, "status")
	if code == 0 || !strings.Contains(errOut, "certificate") {
		t.Errorf("status without the CA: exit %d %q, want a certificate error", code, errOut)
	}
	resp, err := http.Get("http://" + strings.TrimPrefix(addr, "https://") + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP to the TLS API got 200")
		}
	}

	_, errOut, code = cutoverCLI(t, nil, "--state", t.TempDir(), "serve", "--api-tls-cert", certFile)
	if code != 2 || !strings.Contains(errOut, "--api-tls-key") {
		t.Errorf("serve with a certificate and no key: exit %d %q, want 2 naming --api-tls-key", code, errOut)
	}
}

// TestAPILimits: a body over the limit gets 413 and changes nothing, whether its length is
// declared or it is chunked; a header block over the limit gets 431; a client that never
// finishes its headers is disconnected after the read-header timeout.
func TestAPILimits(t *testing.T) {
	h := startWith(t, Options{StateDir: t.TempDir(),
		APILimits: api.Limits{ReadHeaderTimeout: 200 * time.Millisecond, MaxBodyBytes: 64 << 10}})
	listen := freeAddr(t)
	yaml := h.yaml(appSpec{Name: "web", Listen: listen, Version: "v1"})
	// A valid deploy request, padded past the limit with white space JSON allows.
	body := `{"service":"web","who":"test","spec":` + quoteJSON(yaml) + strings.Repeat(" ", 80<<10) + `}`
	url := "http://" + h.d.Addr() + "/v1/services/web/deploy"
	for name, rd := range map[string]io.Reader{
		"declared length": strings.NewReader(body),
		"chunked":         io.MultiReader(strings.NewReader(body)), // no length known: chunked
	} {
		req, err := http.NewRequest(http.MethodPost, url, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+h.d.Token())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s body of %d bytes: status %d %s, want 413", name, len(body), resp.StatusCode, b)
		}
	}
	if got := snapshot(t, h); got != "" {
		t.Errorf("state after refused bodies: %q, want no service", got)
	}

	req, _ := http.NewRequest(http.MethodGet, "http://"+h.d.Addr()+"/v1/services", nil)
	req.Header.Set("Authorization", "Bearer "+h.d.Token())
	req.Header.Set("X-Padding", strings.Repeat("p", 2*api.DefaultMaxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("headers of %d bytes: status %d, want 431", 2*api.DefaultMaxHeaderBytes, resp.StatusCode)
	}

	conn, err := net.Dial("tcp", h.d.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	// Far beyond the 200ms limit: only a missing limit lets the read run into this deadline.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = bufio.NewReader(conn).ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("a client stuck in its headers was not disconnected: %v", err)
	}

	// With the request fitting, the same deploy goes through.
	if _, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: "web", Spec: yaml, Who: "test"}); err != nil {
		t.Errorf("deploy within the limit: %v", err)
	}
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
