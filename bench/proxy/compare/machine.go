package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// toolVersions asks each tool for its version, one line each.
func toolVersions(ctx context.Context) map[string]string {
	v := map[string]string{}
	for name, args := range map[string][]string{
		"nginx": {"nginx", "-v"}, "haproxy": {"haproxy", "-v"}, "wrk": {"wrk", "-v"}, "go": {"go", "version"},
	} {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		out, _ := exec.CommandContext(cctx, args[0], args[1:]...).CombinedOutput()
		cancel()
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		if line == "" {
			line = "not installed"
		}
		v[name] = line
	}
	// go install'd tools: the module version from the binary's build information.
	for _, name := range []string{"caddy"} {
		v[name] = "not installed"
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		out, _ := exec.CommandContext(cctx, "go", "version", "-m", path).Output()
		cancel()
		for line := range strings.SplitSeq(string(out), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "mod" {
				v[name] = f[1] + " " + f[2]
			}
		}
	}
	return v
}

// describeMachine says what the bench ran on.
func describeMachine(ctx context.Context, versions map[string]string) string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(b); m != nil {
			cpu = string(m[1])
		}
	}
	mem := "unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if m := regexp.MustCompile(`MemTotal:\s*(\d+)`).FindSubmatch(b); m != nil {
			_, _ = fmt.Sscan(string(m[1]), &kb)
			mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	kernel := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	debian := "unknown"
	if b, err := os.ReadFile("/etc/debian_version"); err == nil {
		debian = strings.TrimSpace(string(b))
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "- Machine: %d CPUs (nproc), %s, %s memory, Linux %s, Debian %s, %s/%s\n",
		runtime.NumCPU(), cpu, mem, kernel, debian, runtime.GOOS, runtime.GOARCH)
	for _, name := range []string{"go", "nginx", "haproxy", "caddy", "wrk"} {
		fmt.Fprintf(&sb, "- %s: `%s`\n", name, versions[name])
	}
	return sb.String()
}
