package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// appPIDs lists the live processes running the executable app, in pid order.
func appPIDs(app string) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, dir := range dirs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join(dir, "exe"))
		if err != nil || strings.TrimSuffix(exe, " (deleted)") != app || !alive(pid) {
			continue
		}
		out = append(out, pid)
	}
	slices.Sort(out)
	return out
}

// record is what the soak reads of an instance record (run/instances/<id>.json).
type record struct {
	ID      string
	Service string
	PID     int
	Stopped bool
}

// records reads the instance records under state.
func records(state string) ([]record, error) {
	files, err := filepath.Glob(filepath.Join(state, "run", "instances", "*.json"))
	if err != nil {
		return nil, err
	}
	var out []record
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read record: %w", err)
		}
		var r struct {
			Spec struct {
				ID, Service string
			} `json:"spec"`
			PID     int  `json:"pid"`
			Stopped bool `json:"stopped"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("read record %s: %w", f, err)
		}
		out = append(out, record{ID: r.Spec.ID, Service: r.Spec.Service, PID: r.PID, Stopped: r.Stopped})
	}
	return out, nil
}

// Orphans are the pids of live app processes that no record meant to run claims.
func Orphans(pids []int, recs []record) []int {
	claimed := map[int]bool{}
	for _, r := range recs {
		if !r.Stopped && r.PID > 0 {
			claimed[r.PID] = true
		}
	}
	var out []int
	for _, p := range pids {
		if !claimed[p] {
			out = append(out, p)
		}
	}
	return out
}

// Running counts, per service, the records meant to run whose process is live.
func Running(pids []int, recs []record) map[string]int {
	live := map[int]bool{}
	for _, p := range pids {
		live[p] = true
	}
	out := map[string]int{}
	for _, r := range recs {
		if !r.Stopped && live[r.PID] {
			out[r.Service]++
		}
	}
	return out
}

// readDaemon samples pid's resident memory (bytes) and open file descriptors.
func readDaemon(pid int) (rss int64, fds int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			rss = kb << 10
		}
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, 0, err
	}
	return rss, len(ents), nil
}
