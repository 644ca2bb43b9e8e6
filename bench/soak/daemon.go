package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/handoff"
)

// daemon runs `cutover serve` on one state directory: started, killed, handed off and
// restarted by the soak. Its instances outlive it (no --stop-instances).
type daemon struct {
	bin, state string
	log        *os.File
}

// start launches a daemon and waits until its API answers.
func (d daemon) start(ctx context.Context) (*api.Client, error) {
	cmd := exec.Command(d.bin, "serve", "--state", d.state, "--listen", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = d.log, d.log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start daemon: %w", err)
	}
	go func() { _ = cmd.Wait() }() // reap it once it exits (a hand-off, a kill)
	return d.connect(ctx, time.Minute)
}

// connect waits until the daemon whose address is in the state directory answers.
func (d daemon) connect(ctx context.Context, limit time.Duration) (*api.Client, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		addr, err1 := os.ReadFile(filepath.Join(d.state, "api.addr"))
		token, err2 := os.ReadFile(filepath.Join(d.state, "token"))
		if err1 == nil && err2 == nil {
			url := strings.TrimSpace(string(addr))
			if !strings.Contains(url, "://") {
				url = "http://" + url
			}
			c := api.NewClient(url, strings.TrimSpace(string(token)))
			hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := c.Health(hctx)
			cancel()
			if err == nil {
				return c, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, fmt.Errorf("daemon on %s did not answer within %s", d.state, limit)
}

// pid is the serving daemon's pid, from its pid file.
func (d daemon) pid() (int, error) { return handoff.ReadPIDFile(d.state) }

// kill sends SIGKILL to the serving daemon and waits until it is gone.
func (d daemon) kill(ctx context.Context) error {
	pid, err := d.pid()
	if err != nil {
		return fmt.Errorf("kill daemon: %w", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill daemon %d: %w", pid, err)
	}
	return waitGone(ctx, pid, 10*time.Second)
}

// handOff sends SIGHUP and waits for the hand-off's outcome and the old process's exit.
func (d daemon) handOff(ctx context.Context) (string, error) {
	pid, err := d.pid()
	if err != nil {
		return "", fmt.Errorf("hand off: %w", err)
	}
	before, _, _ := handoff.ReadStatus(d.state)
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return "", fmt.Errorf("hand off: signal %d: %w", pid, err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, ok, _ := handoff.ReadStatus(d.state)
		if ok && st.OldPID == pid && !st.At.Equal(before.At) {
			if !st.OK {
				return "refused: " + st.Error, nil
			}
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", fmt.Errorf("hand off from %d: no outcome within 90s", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := waitGone(ctx, pid, 90*time.Second); err != nil {
		return "", fmt.Errorf("hand off: old daemon: %w", err)
	}
	return "handed off", nil
}

// stop ends the serving daemon with SIGTERM and waits (its instances keep running).
func (d daemon) stop() {
	pid, err := d.pid()
	if err != nil {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	_ = waitGone(context.Background(), pid, 45*time.Second)
}

// waitGone waits until pid has exited (or is a zombie).
func waitGone(ctx context.Context, pid int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for alive(pid) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("process %d still running after %s", pid, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// alive reports whether pid runs and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// fillDisk writes a file in dir until its file system is full; free removes it.
func fillDisk(dir string) (free func() error, err error) {
	f, err := os.CreateTemp(dir, "soak-filler-*")
	if err != nil {
		return nil, fmt.Errorf("fill %s: %w", dir, err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for n := len(buf); n > 0; {
		if _, err := f.Write(buf[:n]); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				os.Remove(f.Name())
				return nil, fmt.Errorf("fill %s: %w", dir, err)
			}
			n /= 2 // down to single bytes, so that not even a page is left
		}
	}
	return func() error { return os.Remove(f.Name()) }, nil
}
