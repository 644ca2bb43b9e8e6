// Package procstat reads a process's CPU time and resident memory from /proc (Linux): what
// the dashboard, `status` and /metrics show for an instance whose process runs on this host
// (a process instance, or a container's main process).
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux ABI Go
// supports (sysconf(_SC_CLK_TCK) needs cgo).
const clockTicks = 100

// Usage is one process's CPU time so far and resident memory now.
type Usage struct {
	CPU    time.Duration
	Memory int64 // bytes
}

// Read returns pid's usage from /proc/<pid>/stat (utime + stime) and /proc/<pid>/statm
// (resident pages).
func Read(pid int) (Usage, error) {
	if pid <= 0 {
		return Usage{}, fmt.Errorf("read usage: pid %d", pid)
	}
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return Usage{}, fmt.Errorf("read usage of pid %d: %w", pid, err)
	}
	cpu, err := parseStat(stat)
	if err != nil {
		return Usage{}, fmt.Errorf("read usage of pid %d: %w", pid, err)
	}
	statm, err := os.ReadFile(dir + "/statm")
	if err != nil {
		return Usage{}, fmt.Errorf("read usage of pid %d: %w", pid, err)
	}
	f := bytes.Fields(statm)
	if len(f) < 2 {
		return Usage{}, fmt.Errorf("read usage of pid %d: statm has %d fields", pid, len(f))
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return Usage{}, fmt.Errorf("read usage of pid %d: statm: %w", pid, err)
	}
	return Usage{CPU: cpu, Memory: pages * int64(os.Getpagesize())}, nil
}

// parseStat returns utime + stime (fields 14 and 15) of a /proc/<pid>/stat line. The command
// name, in parentheses, may hold spaces and parentheses: fields count from the last ')'.
func parseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no command name")
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields", len(f)+2)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
