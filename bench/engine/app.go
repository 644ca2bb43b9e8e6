package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/cutover/cutover/bench/machine"
)

// directApp is a demo app process started by the bench itself, outside the daemon.
type directApp struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// startApp runs the demo app with the version on a free loopback port and waits until it
// accepts connections (at most 10s).
func startApp(ctx context.Context, bin, version string) (*directApp, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "LISTEN_ADDR="+addr, "VERSION="+version)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start demo app %s: %w", version, err)
	}
	a := &directApp{Addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(a.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return a, nil
		}
		if time.Now().After(deadline) {
			a.Stop()
			return nil, fmt.Errorf("demo app %s not listening on %s within 10s", version, addr)
		}
		if err := machine.Sleep(ctx, 2*time.Millisecond); err != nil {
			a.Stop()
			return nil, err
		}
	}
}

// Stop sends SIGTERM and waits up to 5s, then kills the process.
func (a *directApp) Stop() {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(5 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.done
	}
}
