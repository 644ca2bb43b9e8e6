package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/cli"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
)

// stackFile is the stack: web built FROM scratch from a Dockerfile, db stateful with
// a named volume, a worker healthy only while db answers by name, and a migration job that
// must reach db by name before web deploys. db is the demo app in its SQLite mode, its file
// on the named volume. The versions say what changed; job is the host the job calls for db
// (another name makes it fail).
func stackFile(project, img, port, web, worker, db, job string) string {
	return fmt.Sprintf(`name: %s
services:
  web:
    build: ./web
    ports: ["127.0.0.1:%s:8080"]
    environment: {VERSION: %s}
    healthcheck: {test: ["CMD", "/healthprobe"], interval: 200ms, retries: 3}
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
  db:
    image: %s
    environment: {VERSION: %s, DB_DRIVER: sqlite, DATABASE_URL: /data/app.db, DEMO_DB_SCHEMA: v0, DEMO_DB_CREATE: "1"}
    volumes: ["data:/data"]
    healthcheck: {test: ["CMD", "/healthprobe"], interval: 200ms, retries: 3}
  worker:
    image: %s
    environment: {VERSION: %s, HEALTH_URL: "http://db:8080/healthz"}
    healthcheck: {test: ["CMD", "/healthprobe"], interval: 200ms, retries: 3}
    stop_grace_period: 2s
    depends_on: [db]
  migrate:
    image: %s
    entrypoint: ["/healthprobe"]
    environment: {HEALTH_URL: "http://%s:8080/healthz"}
    restart: "no"
    depends_on:
      db: {condition: service_healthy}
volumes: {data: {}}
`, project, port, web, img, db, img, worker, img, job)
}

// stackContainers is the ID of the running container of each service of the stack's
// stateful and worker services (the daemon's routed ones have another owner).
func stackContainers(t *testing.T, dc *client.Client, owner string) map[string]string {
	t.Helper()
	list, err := dc.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", docker.LabelOwner+"="+owner))})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range list {
		if prev, ok := out[c.Labels[docker.LabelService]]; ok {
			t.Errorf("service %s runs two containers: %s and %s", c.Labels[docker.LabelService], prev, c.ID)
		}
		out[c.Labels[docker.LabelService]] = c.ID
	}
	return out
}

// TestDeployStack deploys the whole stack on a real daemon and the real engine, then
// redeploys it changing web only (db and worker untouched), the worker only (the new one
// ready before the old one stops), and db only (stopped before its replacement, its volume
// kept), and a db that never becomes healthy (the deploy fails and the old db runs again).
func TestDeployStack(t *testing.T) {
	img := dockertest.DemoImage(t)
	dc := dockertest.Client(t)
	e := startCompose(t)
	state, project := e.state, e.project
	stackOwner := filepath.Join(state, "stack", project)

	dir := filepath.Join(t.TempDir(), "proj")
	if err := os.MkdirAll(filepath.Join(dir, "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := dockertest.StaticBinaries(filepath.Join(dir, "web")); err != nil {
		t.Fatal(err)
	}
	dockerfile := "FROM scratch\nCOPY demoapp healthprobe /\nENV LISTEN_HOST=0.0.0.0\nENTRYPOINT [\"/demoapp\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "web", "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "compose.yaml")
	port := freePort(t)
	job := "db"
	deploy := func(web, worker, db string) result {
		t.Helper()
		if err := os.WriteFile(file, []byte(stackFile(project, img, port, web, worker, db, job)), 0o644); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		defer func() { t.Logf("deploy web %s worker %s db %s: %s", web, worker, db, time.Since(began)) }()
		return e.cli(t, "deploy", "-f", file, "--wait", "--timeout", "90s")
	}

	r := deploy("w1", "k1", "d1")
	if r.code != 0 {
		t.Fatalf("first deploy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "job migrate: completed") {
		t.Errorf("the job did not reach db by name:\n%s", r.stdout)
	}
	first := stackContainers(t, dc, stackOwner)
	if first["db"] == "" || first["worker"] == "" || len(first) != 2 {
		t.Fatalf("stack containers %v: want db and worker", first)
	}
	checkWeb(t, port, "w1")
	users := addUsers(t, containerAddr(t, dc, first["db"]), "user", 20)
	load := startSteady(t, "http://127.0.0.1:"+port+"/")

	r = deploy("w2", "k1", "d1")
	if r.code != 0 || !strings.Contains(r.stdout, "db: unchanged, left alone") || !strings.Contains(r.stdout, "worker: unchanged, left alone") ||
		!regexp.MustCompile(`(?m)^  web: revision \d+ deployed$`).MatchString(r.stderr) {
		t.Fatalf("web-only redeploy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if now := stackContainers(t, dc, stackOwner); now["db"] != first["db"] || now["worker"] != first["worker"] {
		t.Errorf("web-only redeploy touched db or worker: %v, was %v", now, first)
	}
	checkWeb(t, port, "w2")

	r = deploy("w2", "k2", "d1")
	second := stackContainers(t, dc, stackOwner)
	if r.code != 0 || second["worker"] == first["worker"] || second["db"] != first["db"] {
		t.Fatalf("worker redeploy: exit %d, containers %v (were %v)\n%s%s", r.code, second, first, r.stdout, r.stderr)
	}
	ready, stopping := strings.Index(r.stdout, "ready"), strings.Index(r.stdout, "worker: stopping")
	if ready < 0 || stopping < ready {
		t.Errorf("worker: the old one must stop after the new one is ready:\n%s", r.stdout)
	}

	r = deploy("w2", "k2", "d2")
	third := stackContainers(t, dc, stackOwner)
	if r.code != 0 || third["db"] == second["db"] || !strings.Contains(r.stdout, "downtime starts") ||
		!strings.Contains(r.stdout, "downtime ended after") {
		t.Fatalf("db redeploy: exit %d, containers %v\n%s%s", r.code, third, r.stdout, r.stderr)
	}
	checkVolume(t, dc, third["db"], project+"_data")
	if n := missingUsers(t, containerAddr(t, dc, third["db"]), users); n > 0 {
		t.Errorf("db redeploy lost %d of %d users", n, len(users))
	}

	r = e.cli(t, "deploy", "-f", file, "--dry-run")
	if !regexp.MustCompile(`db +stateful +stop-then-start +unchanged`).MatchString(r.stdout) {
		t.Errorf("dry run after the db redeploy:\n%s", r.stdout)
	}
	r = deploy("w3", "k2", `d3, NEVER_READY: "1"`)
	if r.code != cli.ExitFailed || !strings.Contains(r.stderr, "db: new container") ||
		!strings.Contains(r.stderr, "  db: failed\n  migrate: not started (a service before it failed)\n  web: not started") {
		t.Errorf("db that never gets healthy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if now := stackContainers(t, dc, stackOwner); now["db"] != third["db"] {
		t.Errorf("after a failed db deploy the old db does not run again: %v, was %v", now, third)
	}
	checkWeb(t, port, "w2")

	job = "nodb" // the job cannot reach its database: it fails, web is not deployed
	r = deploy("w4", "k2", "d2")
	if r.code != cli.ExitFailed || !strings.Contains(r.stderr, "job migrate exited with code 1") ||
		!strings.Contains(r.stderr, "  migrate: failed\n  web: not started") {
		t.Errorf("failing job: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	checkWeb(t, port, "w2")
	ok, failed, firsts := load.stop()
	t.Logf("steady load through web's route over every deploy: %d ok, %d failed", ok, failed)
	if ok == 0 || failed > 0 {
		t.Errorf("steady load through web's route: %d ok, %d failed; want 0 failed (first: %v)", ok, failed, firsts)
	}
}

// checkWeb checks web's route answers with version.
func checkWeb(t *testing.T, port, version string) {
	t.Helper()
	resp, err := http.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatalf("GET web: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), version) {
		t.Errorf("GET web: %s %q; want version %s", resp.Status, body, version)
	}
}

// checkVolume checks container id mounts the named volume, which is still labelled.
func checkVolume(t *testing.T, dc *client.Client, id, volume string) {
	t.Helper()
	c, err := dc.ContainerInspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Mounts {
		if m.Name == volume && m.Destination == "/data" {
			return
		}
	}
	t.Errorf("container %s mounts %+v; want volume %s at /data", id, c.Mounts, volume)
}

// TestStackStatusAndDown deploys a stack of a routed, a stateful and a worker service, shows
// it with status -f, takes it down keeping its volume (the routed service removed from the
// daemon, its port released, its containers gone; the same volume serves the next deploy),
// and takes it down again with --volumes.
func TestStackStatusAndDown(t *testing.T) {
	img := dockertest.DemoImage(t)
	dc := dockertest.Client(t)
	e := startCompose(t)
	file := filepath.Join(t.TempDir(), "compose.yaml")
	port := freePort(t)
	doc := "name: " + e.project + `
services:
  web:
    image: ` + img + `
    ports: ["127.0.0.1:` + port + `:8080"]
    environment: {VERSION: w1}
    depends_on: [db]
  db:
    image: ` + img + `
    volumes: ["data:/data"]
    healthcheck: {test: ["CMD", "/healthprobe"], interval: 200ms, retries: 3}
  worker:
    image: ` + img + `
    environment: {HEALTH_URL: "http://db:8080/healthz"}
    healthcheck: {test: ["CMD", "/healthprobe"], interval: 200ms, retries: 3}
    depends_on: [db]
volumes: {data: {}}
`
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := e.cli(t, "deploy", "-f", file, "--wait", "--timeout", "90s"); r.code != 0 {
		t.Fatalf("deploy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	checkWeb(t, port, "w1")
	r := e.cli(t, "status", "-f", file)
	for _, want := range []string{`db +stateful +1 +revision 1 running \(healthy\)`, `worker +worker +1 +revision 1 running \(healthy\)`} {
		if !regexp.MustCompile(want).MatchString(r.stdout) {
			t.Errorf("status -f lacks %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
	vol, err := dc.VolumeInspect(context.Background(), e.project+"_data")
	if err != nil {
		t.Fatal(err)
	}
	stackOwner := filepath.Join(e.state, "stack", e.project)
	r = e.cli(t, "down", "-f", file)
	if r.code != 0 || len(stackContainers(t, dc, stackOwner)) != 0 || !strings.Contains(r.stdout, "volumes of "+e.project+" kept") {
		t.Fatalf("down: exit %d, containers %v\n%s%s", r.code, stackContainers(t, dc, stackOwner), r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "web: removed") || len(stackContainers(t, dc, e.state)) != 0 {
		t.Errorf("down left web running: containers %v\n%s%s", stackContainers(t, dc, e.state), r.stdout, r.stderr)
	}
	if _, err := api.NewClient("http://"+e.d.Addr(), e.d.Token()).Service(context.Background(), "web"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("the daemon still knows web after down: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 2*time.Second); err == nil {
		conn.Close()
		t.Errorf("web's port %s still accepts after down", port)
	}
	r = e.cli(t, "-o", "json", "deploy", "-f", file, "--wait", "--timeout", "90s")
	if r.code != 0 {
		t.Fatalf("deploy after down: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rep struct {
		OK       bool
		Services []struct{ Service, Kind, Outcome string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !rep.OK || len(rep.Services) != 3 {
		t.Errorf("deploy -o json: %+v, %v; want one document, ok, three services\n%s", rep, err, r.stdout)
	}
	for _, s := range rep.Services {
		if s.Service == "web" && !regexp.MustCompile(`^revision \d+ deployed$`).MatchString(s.Outcome) {
			t.Errorf("deploy -o json: web's outcome %q", s.Outcome)
		}
	}
	if again, err := dc.VolumeInspect(context.Background(), e.project+"_data"); err != nil || again.CreatedAt != vol.CreatedAt {
		t.Errorf("volume after down and deploy: %+v, %v; want the same volume as before (%s)", again, err, vol.CreatedAt)
	}
	r = e.cli(t, "down", "-f", file, "--volumes")
	if _, err := dc.VolumeInspect(context.Background(), e.project+"_data"); r.code != 0 || err == nil {
		t.Errorf("down --volumes: exit %d, volume still there (%v)\n%s%s", r.code, err, r.stdout, r.stderr)
	}
}
