package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100 on Linux).
const clockTicks = 100

// proc is one started program.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// startProc starts a program with its output appended to a log file in dir.
func startProc(dir, name string, env []string, prog string, args ...string) (*proc, error) {
	logf, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(prog, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	// Own process group: a signal to the bench does not reach the servers before it stops them.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGINT (then SIGKILL to the group after 10s) and waits for the exit.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls url until it answers 200 with a body of wantBody bytes, or fails after 15s
// or when p exits.
func waitReady(ctx context.Context, p *proc, url string, wantBody int) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("wait for %s: exited (see %s.log)", p.name, p.name)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && int(n) == wantBody {
				return nil
			}
			err = fmt.Errorf("status %d, %d bytes", resp.StatusCode, n)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("wait for %s at %s: %w", p.name, url, last)
}

// tree returns pid and its descendants (nginx's workers are children of its master).
func tree(pid int) []int {
	parents := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(child)
		if err != nil {
			continue
		}
		parents[st.ppid] = append(parents[st.ppid], child)
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, parents[out[i]]...)
	}
	return out
}

type stat struct {
	ppid         int
	utime, stime int64
}

// readStat reads the parent and CPU times of a process from /proc/<pid>/stat.
func readStat(pid int) (stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, err
	}
	return parseStat(b)
}

// parseStat parses the content of /proc/<pid>/stat.
func parseStat(b []byte) (stat, error) {
	// The command name may hold spaces and parentheses: fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, errors.New("malformed stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return stat{}, errors.New("short stat")
	}
	// After the name: state(0) ppid(1) ... utime(11) stime(12).
	var s stat
	s.ppid, _ = strconv.Atoi(f[1])
	s.utime, _ = strconv.ParseInt(f[11], 10, 64)
	s.stime, _ = strconv.ParseInt(f[12], 10, 64)
	return s, nil
}

// cpuTicks is the summed utime+stime of pids.
func cpuTicks(pids []int) int64 {
	var t int64
	for _, pid := range pids {
		if s, err := readStat(pid); err == nil {
			t += s.utime + s.stime
		}
	}
	return t
}

// peakRSS is the summed VmHWM of pids, in bytes.
func peakRSS(pids []int) int64 {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				total += kb << 10
			}
		}
	}
	return total
}

// busyTicks is the machine's non-idle CPU time from /proc/stat (user, nice, system, irq,
// softirq, steal), summed over CPUs.
func busyTicks() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var t int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		if i < len(f) {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			t += v
		}
	}
	return t
}

// childTicks is the CPU time an exited command used, in clock ticks.
func childTicks(cmd *exec.Cmd) int64 {
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	us := ru.Utime.Sec*1e6 + ru.Utime.Usec + ru.Stime.Sec*1e6 + ru.Stime.Usec
	return us * clockTicks / 1e6
}

// meter measures, over one load run, the CPU of the measured target, of the whole bench
// (targets, upstreams, the generator) and of the machine, to tell how much other work ran.
type meter struct {
	target, bench, busy int64
	start               time.Time
}

func (b *bench) startMeter(t *target) meter {
	return meter{target: cpuTicks(t.pids), bench: cpuTicks(b.allPids()), busy: busyTicks(), start: time.Now()}
}

// stop fills s's CPU figures; gen is the load generator's CPU time in ticks.
func (m meter) stop(b *bench, t *target, s *sample, gen int64) {
	s.cpuTicks = cpuTicks(t.pids) - m.target
	s.genTicks = gen
	benchTicks := cpuTicks(b.allPids()) - m.bench + gen
	capacity := float64(runtime.NumCPU()) * time.Since(m.start).Seconds() * clockTicks
	s.foreign = max(float64(busyTicks()-m.busy-benchTicks), 0) / capacity
}

// allPids is every process the bench started and measures.
func (b *bench) allPids() []int {
	var pids []int
	for _, u := range b.upstreams {
		pids = append(pids, u.cmd.Process.Pid)
	}
	for _, t := range b.targets {
		if t.proc != nil {
			pids = append(pids, t.pids...)
		}
	}
	return pids
}
