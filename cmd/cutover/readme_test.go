package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/testbin"
)

// readmeBlock returns the lines of the first ```sh block after heading in README.md.
func readmeBlock(t *testing.T, heading string) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no heading %q", heading)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatalf("README.md: no sh block under %q", heading)
	}
	return strings.Split(strings.TrimSpace(block), "\n")
}

var goBuild = regexp.MustCompile(`^go build -o (\S+) `)

// TestReadmeTourLeavesNothingRunning runs the README's five-minute tour as written, in bash,
// with the real binaries, and checks that its last line stops everything it started: the
// daemon and the demo app's instances. Only what cannot run here unchanged is rewritten: the
// binaries are copied instead of built, the API and the route take free ports, the state is
// in a temporary directory, `logs -f` does not follow, and the script waits for the daemon's
// address file before its first call, as a person typing does without knowing it.
func TestReadmeTourLeavesNothingRunning(t *testing.T) {
	dir := t.TempDir()
	route := freeRoute(t)
	t.Cleanup(func() { killProcessesIn(dir) })
	bins := map[string]string{"cutover": testbin.Cutover(t), "demoapp": testbin.Demoapp(t)}
	example, err := os.ReadFile("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "examples"), 0o755); err != nil {
		t.Fatal(err)
	}
	example = bytes.ReplaceAll(example, []byte("127.0.0.1:8080"), []byte(route))
	if err := os.WriteFile(filepath.Join(dir, "examples", "demo.yaml"), example, 0o644); err != nil {
		t.Fatal(err)
	}
	var script []string
	for _, line := range readmeBlock(t, "## A five-minute tour") {
		if m := goBuild.FindStringSubmatch(line); m != nil {
			bin, ok := bins[m[1]]
			if !ok {
				t.Fatalf("the tour builds %s, which this test has no binary for", m[1])
			}
			line = "cp " + strconv.Quote(bin) + " " + m[1]
		}
		line = strings.ReplaceAll(line, "127.0.0.1:8080", route)
		line = strings.Replace(line, " logs demo -f ", " logs demo ", 1)
		if strings.HasPrefix(line, "./cutover serve ") {
			line = strings.Replace(line, "./cutover serve ", "./cutover serve --listen 127.0.0.1:0 ", 1)
			line += "\nfor i in $(seq 300); do [ -s \"$CUTOVER_STATE/api.addr\" ] && break; sleep 0.1; done"
		}
		script = append(script, line)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", strings.Join(script, "\n"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "CUTOVER_STATE="+filepath.Join(dir, "state"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tour failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("hello from demoapp")) {
		t.Errorf("the tour's curl did not reach the demo app:\n%s", out)
	}
	if left := processesRunning(dir, "cutover", "demoapp"); len(left) > 0 {
		t.Errorf("still running after the tour's last line: %s\n%s", strings.Join(left, ", "), out)
	}
}

// TestReadmeBuildsAreIgnored: every binary the README builds into the checkout is ignored
// by git, so that following the README leaves `git status` clean.
func TestReadmeBuildsAreIgnored(t *testing.T) {
	if err := exec.Command("git", "rev-parse", "--is-inside-work-tree").Run(); err != nil {
		t.Skipf("not in a git work tree: %v", err)
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`(?m)^go build -o (\S+) `).FindAllStringSubmatch(string(b), -1)
	if len(names) == 0 {
		t.Fatal("README.md builds nothing: this test looks for `go build -o NAME` lines")
	}
	for _, m := range names {
		cmd := exec.Command("git", "check-ignore", "-q", "--no-index", m[1])
		cmd.Dir = "../.."
		if err := cmd.Run(); err != nil {
			t.Errorf("README builds %s, which .gitignore does not ignore (git check-ignore: %v)", m[1], err)
		}
	}
}

// freeRoute returns a free loopback address for the tour's route.
func freeRoute(t *testing.T) string {
	t.Helper()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// processesRunning lists the live processes (pid and name) running one of the named
// executables in dir.
func processesRunning(dir string, names ...string) []string {
	var found []string
	exes, _ := filepath.Glob("/proc/[0-9]*/exe")
	for _, link := range exes {
		exe, err := os.Readlink(link)
		if err != nil {
			continue
		}
		exe = strings.TrimSuffix(exe, " (deleted)")
		for _, name := range names {
			if exe != filepath.Join(dir, name) {
				continue
			}
			pid := filepath.Base(filepath.Dir(link))
			if stat, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil && !zombie(stat) {
				found = append(found, pid+" "+name)
			}
		}
	}
	return found
}

// zombie reports whether a /proc/<pid>/stat line is a process that exited but is not reaped.
func zombie(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
