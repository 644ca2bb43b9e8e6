package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the demoapp built once, statically (CGO_ENABLED=0), by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "demoapp-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "demoapp")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build demoapp: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a demoapp process whose stdout lines arrive on lines.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	url   string
	done  chan error
}

// startProc runs the binary with env on 127.0.0.1:0 and waits for its listening line.
func startProc(t *testing.T, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary)
	cmd.Env = append([]string{"PORT=1", "LISTEN_ADDR=127.0.0.1:0"}, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 100), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill(); <-p.done; p.done <- nil })
	line := p.next(t, 10*time.Second)
	var addr, version string
	if _, err := fmt.Sscanf(line, "listening on %s version %s", &addr, &version); err != nil {
		t.Fatalf("first stdout line %q: %v", line, err)
	}
	p.url = "http://" + addr
	return p
}

func (p *proc) next(t *testing.T, wait time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			t.Fatal("stdout closed")
		}
		return l
	case <-time.After(wait):
		t.Fatalf("no stdout line within %s", wait)
	}
	return ""
}

// exitCode waits for the process to exit and returns its code.
func (p *proc) exitCode(t *testing.T, wait time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatalf("wait: %v", err)
	case <-time.After(wait):
		t.Fatalf("process did not exit within %s", wait)
	}
	return -1
}

func TestProcessGracefulShutdown(t *testing.T) {
	p := startProc(t, "VERSION=p1", "SHUTDOWN_DELAY=400ms")
	if code, body, _ := get(t, p.url+"/"); code != 200 || body != "hello from demoapp p1\n" {
		t.Fatalf("GET / = %d %q", code, body)
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if l := p.next(t, 5*time.Second); l != "shutting down" {
		t.Errorf("stdout after SIGTERM = %q, want shutting down", l)
	}
	if code, _, _ := get(t, p.url+"/healthz"); code != 503 {
		t.Errorf("GET /healthz while draining = %d, want 503", code)
	}
	if code, _, _ := get(t, p.url+"/"); code != 200 {
		t.Errorf("GET / while draining = %d, want 200", code)
	}
	if code := p.exitCode(t, 10*time.Second); code != 0 {
		t.Errorf("exit code = %d, want 0", code)
	}
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Errorf("exited %s after SIGTERM, want >= SHUTDOWN_DELAY 400ms", el)
	}
	var rest []string
	for l := range p.lines {
		rest = append(rest, l)
	}
	if len(rest) == 0 || rest[len(rest)-1] != "stopped" {
		t.Errorf("last stdout lines = %q, want stopped", rest)
	}
}

func TestProcessIgnoreSIGTERM(t *testing.T) {
	p := startProc(t, "IGNORE_SIGTERM=1")
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	if code, _, _ := get(t, p.url+"/healthz"); code != 200 {
		t.Errorf("GET /healthz after an ignored SIGTERM = %d, want 200", code)
	}
	p.cmd.Process.Kill()
	if code := p.exitCode(t, 5*time.Second); code != -1 {
		t.Errorf("exit code after SIGKILL = %d, want -1 (killed)", code)
	}
}

func TestProcessStartupDelay(t *testing.T) {
	start := time.Now()
	startProc(t, "STARTUP_DELAY=400ms")
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Errorf("listening after %s, want >= 400ms", el)
	}
}

func TestProcessNeedsPort(t *testing.T) {
	cmd := exec.Command(binary)
	cmd.Env = []string{"VERSION=x"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), "PORT is required") {
		t.Errorf("run without PORT: err %v, stderr %q; want exit 2 naming PORT", err, stderr.String())
	}
}

func TestBinaryIsStatic(t *testing.T) {
	f, err := elf.Open(binary)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("demoapp binary has an ELF interpreter (dynamically linked); want CGO_ENABLED=0 static")
		}
	}
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// TestBindsLoopbackByDefault is the review's reproduction: given only PORT (as cutover's
// process runtime gives it), the demo app listened on every interface. It listens on
// 127.0.0.1 unless LISTEN_HOST says otherwise (a container sets LISTEN_HOST=0.0.0.0, as the
// demo image does, so that a published port reaches it).
func TestBindsLoopbackByDefault(t *testing.T) {
	for _, tc := range []struct {
		env       []string
		wantHosts string // the hosts accepted, space-separated
	}{
		{[]string{"LISTEN_ADDR=", "PORT=0"}, "127.0.0.1"},
		{[]string{"LISTEN_ADDR=", "PORT=0", "LISTEN_HOST=0.0.0.0"}, "0.0.0.0 ::"}, // Go shows 0.0.0.0 as [::]
	} {
		p := startProc(t, tc.env...)
		host, _, err := net.SplitHostPort(strings.TrimPrefix(p.url, "http://"))
		if err != nil || !slices.Contains(strings.Fields(tc.wantHosts), host) {
			t.Errorf("%v: listening on %s, want host %s", tc.env, p.url, tc.wantHosts)
		}
		resp, err := http.Get(p.url + "/healthz")
		if err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		resp.Body.Close()
	}
}
