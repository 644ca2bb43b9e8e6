package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// buildDemoapp builds examples/demoapp (static) into dir.
func buildDemoapp(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "demoapp")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./examples/demoapp")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build demoapp (run from the repository root): %w\n%s", err, b)
	}
	return out, nil
}

// startDemoapp runs the demo app's release 0 (v0: users.name) on dsn, listening on a free
// loopback port, and returns its URL and a function that stops it.
func startDemoapp(bin, dsn string) (string, func(), error) {
	cmd := exec.Command(bin)
	cmd.Env = []string{"LISTEN_ADDR=127.0.0.1:0", "VERSION=r0", "DEMO_DB_SCHEMA=v0", "DB_DRIVER=postgres",
		"DATABASE_URL=" + dsn, "SHUTDOWN_TIMEOUT=5s"}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start demoapp: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	addr, ok := strings.CutPrefix(line, "listening on ")
	if err != nil || !ok {
		stop()
		return "", nil, fmt.Errorf("demoapp's first line %q: %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, r) }() // keep its stdout drained
	return "http://" + strings.Fields(addr)[0], stop, nil
}
