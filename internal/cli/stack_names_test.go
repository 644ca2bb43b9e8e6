package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
)

// callerCounts matches the caller's counters.
var callerCounts = regexp.MustCompile(`(?m)^ok=(\d+) failed=(\d+)$`)

// callerLog is the caller's output so far and its last counters.
func callerLog(t *testing.T, dc *client.Client, id string) (log string, ok, failed int) {
	t.Helper()
	rc, err := dc.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil {
		t.Fatal(err)
	}
	all := callerCounts.FindAllStringSubmatch(out.String(), -1)
	if len(all) == 0 {
		return out.String(), 0, 0
	}
	ok, _ = strconv.Atoi(all[len(all)-1][1])
	failed, _ = strconv.Atoi(all[len(all)-1][2])
	return out.String(), ok, failed
}

// TestCallByNameDuringDeploys runs, in the stack, a worker that calls web by its compose name
// 50 times a second (resolving the name once, as clients that cache addresses do), while web
// is deployed twice on the real engine: every call is answered
// (the name leads to cutover's proxy on the project network's gateway, which routes only to
// ready instances), and the proxy counts the calls.
func TestCallByNameDuringDeploys(t *testing.T) {
	img, callerImg := dockertest.DemoImage(t), dockertest.CallerImage(t)
	dc := dockertest.Client(t)
	e := startCompose(t)
	file := filepath.Join(t.TempDir(), "compose.yaml")
	port := freePort(t)
	deploy := func(version string) {
		t.Helper()
		doc := fmt.Sprintf(`name: %s
services:
  web:
    image: %s
    ports: ["127.0.0.1:%s:8080"]
    environment: {VERSION: %s}
    healthcheck: {test: ["CMD", "/healthprobe"], interval: 200ms, retries: 3}
  caller:
    image: %s
    environment: {URL: "http://web:8080/", RATE: "50", DURATION: "3m", RESOLVE: once}
    depends_on: [web]
    x-cutover: {min_ready: 1s}
`, e.project, img, port, version, callerImg)
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := e.cli(t, "deploy", "-f", file, "--wait", "--timeout", "90s"); r.code != 0 {
			t.Fatalf("deploy %s: exit %d\n%s%s", version, r.code, r.stdout, r.stderr)
		}
	}
	deploy("v1")
	ids := stackContainers(t, dc, filepath.Join(e.state, "stack", e.project))
	waitUntil(t, 30*time.Second, "the caller's first answers", func() bool {
		_, ok, _ := callerLog(t, dc, ids["caller"])
		return ok >= 50
	})
	_, before, failedBefore := callerLog(t, dc, ids["caller"])
	deploy("v2")
	deploy("v3")
	log, ok, failed := callerLog(t, dc, ids["caller"])
	failed -= failedBefore
	if failed != 0 || ok <= before {
		t.Errorf("calls to web by name during two deploys: %d answered (%d before), %d failed:\n%s",
			ok, before, failed, strings.Join(regexp.MustCompile(`(?m)^fail:.*$`).FindAllString(log, 20), "\n"))
	}
	t.Logf("calls to web by name: %d answered over the two deploys, %d failed", ok-before, failed)
	svc, err := api.NewClient("http://"+e.d.Addr(), e.d.Token()).Service(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	var proxied int64
	for _, c := range svc.Traffic {
		proxied += c.Requests
	}
	if proxied < int64(ok) {
		t.Errorf("the proxy counted %d requests for web; the caller got %d answers: its calls do not go through the proxy", proxied, ok)
	}
}
