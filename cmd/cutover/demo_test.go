package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/testbin"
)

// TestDemo runs `cutover demo --exit`, the README's first command, as a real binary: the tour
// must finish with every step done and no request failed.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testbin.Cutover(t), "demo", "--exit", "--rate", "100")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("cutover demo: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"1/4 first deployment", "2/4 rolling deploy", "3/4 blue-green deploy", "4/4 rollback", "Ctrl-C stops the demo"} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	m := regexp.MustCompile(`load during the tour: (\d+) requests, (\d+) served, (\d+) failed`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("demo printed no final tally:\n%s", text)
	}
	if m[3] != "0" || m[2] == "0" {
		t.Errorf("final tally %q: want requests served and none failed", m[0])
	}
	// Every version of the tour served, listed as text (not a Go map's %v).
	if !regexp.MustCompile(`\| by version v1:\d+ v2:\d+ v3:\d+\n`).MatchString(text) {
		t.Errorf("the final tally does not list v1, v2 and v3 serving as \"v1:N v2:N v3:N\":\n%s", text)
	}
}
