package daemon

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cli"
)

// TestDeployWaitPrintsProbeFailures: `deploy --wait` of a revision whose readiness probe
// fails prints, while it waits, a line with the probe's last result and the time left before
// the progress deadline and --timeout, then the events up to the rollback, in time order.
func TestDeployWaitPrintsProbeFailures(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	h.wait(h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1"}).ID, 30*time.Second)
	file := filepath.Join(t.TempDir(), "web.yaml")
	yaml := h.yaml(appSpec{Name: "web", Listen: listen, Version: "v2", Env: map[string]string{"NEVER_READY": "1"},
		Strategy: "rolling: {progress_deadline: 12s}\n"})
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--state", t.TempDir(), "--addr", "http://" + h.d.Addr(), "--token", h.d.Token(),
		"deploy", "web", "--spec", file, "--wait", "--timeout", "2m"}
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := cli.Main(ctx, args, strings.NewReader(""), &stdout, &stderr, cli.Commands{})
	out := stdout.String()
	if code != cli.ExitRolledBack {
		t.Fatalf("deploy --wait of a revision never ready: exit %d, want %d\n%s%s", code, cli.ExitRolledBack, out, stderr.String())
	}
	probe := regexp.MustCompile(`(?m)^(\d\d:\d\d:\d\d) deployment \d+ instance \S+ not ready: .*503.*\(\d+s left before progress_deadline, 1m\d+s left before --timeout\)$`)
	m := probe.FindStringSubmatchIndex(out)
	if m == nil {
		t.Fatalf("no line with the probe's last result and the time left:\n%s", out)
	}
	end := strings.Index(out, "rolled back")
	if end < m[0] {
		t.Errorf("the probe line comes after the outcome:\n%s", out)
	}
	t.Logf("deploy --wait printed:\n%s", out)
	var last string
	for _, line := range strings.Split(strings.TrimSpace(out[:end]), "\n") {
		if ts := regexp.MustCompile(`^\d\d:\d\d:\d\d`).FindString(line); ts != "" {
			if ts < last {
				t.Errorf("lines out of order at %q:\n%s", line, out)
			}
			last = ts
		}
	}
}
