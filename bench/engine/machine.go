package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/cutover/cutover/bench/machine"
)

// machineHeader describes the machine and the run, as the head of the Markdown fragment.
func machineHeader(ctx context.Context, args, loadAtStart string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s: %d CPUs (%s), %s memory, %s, %s/%s.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), hostKernel(), goruntime.NumCPU(), cpuModel(), memTotal(),
		goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
	fmt.Fprintf(&b, "Load average (1/5/15 min) at start %s, at end %s: other work on the machine adds noise.\n\n", loadAtStart, machine.LoadAvg())
	fmt.Fprintf(&b, "Command: `%s`\n", strings.TrimSpace("go run ./bench/engine "+args))
	if c := commit(ctx); c != "" {
		fmt.Fprintf(&b, "Commit: %s\n", c)
	}
	return b.String()
}

func cpuModel() string {
	return procField("/proc/cpuinfo", "model name")
}

func memTotal() string {
	v := procField("/proc/meminfo", "MemTotal")
	var kb int64
	if _, err := fmt.Sscanf(v, "%d kB", &kb); err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
}

// procField returns the value of the first "key: value" line with the key, or "unknown".
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func hostKernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return goruntime.GOOS
	}
	return "Linux " + strings.TrimSpace(string(b))
}

// commit is the checkout's HEAD, marked dirty when files differ; empty outside git.
func commit(ctx context.Context) string {
	root, err := moduleRoot(ctx)
	if err != nil {
		return ""
	}
	out, err := exec.CommandContext(ctx, "git", "-C", filepath.Clean(root), "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain").Output(); err == nil && len(st) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}
