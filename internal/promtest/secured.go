package promtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Start runs a Prometheus of its own for t (the binary scripts/install-prometheus installs)
// on a free loopback port, with webConfig (the text of a --web.config.file: tls_server_config,
// basic_auth_users) and no scrape targets; it returns the address it listens on (host:port)
// once the port accepts connections. It is stopped and its data removed when t ends. It skips
// t when the binary is missing, except under CI=true, where it fails it.
func Start(t testing.TB, webConfig string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		msg := fmt.Sprintf("no prometheus binary (%v): run scripts/install-prometheus", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	web := filepath.Join(dir, "web.yml")
	conf := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(web, []byte(webConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("global:\n  scrape_interval: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+conf, "--web.config.file="+web,
		"--web.listen-address="+addr, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--log.level=warn")
	logFile, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	logText := func() string { b, _ := os.ReadFile(logFile.Name()); return string(b) }
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cancel(); <-exited })
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("prometheus exited at start: %s", logText())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus did not listen on %s within 60s: %s", addr, logText())
		}
	}
}
