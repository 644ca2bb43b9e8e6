package cli_test

import (
	"bytes"
	"context"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/sirupsen/logrus"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/cli"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
)

// TestDeployComposeFile deploys two compose services from the demo image on a real daemon
// and the real Docker engine: api depends on db being healthy, so db is waited for first;
// healthcheck, update_config and an unsupported key are honoured or warned about.
func TestDeployComposeFile(t *testing.T) {
	image := dockertest.DemoImage(t)
	e := startCompose(t)
	d, project := e.d, e.project

	dir := t.TempDir()
	apiPort, dbPort := freePort(t), freePort(t)
	file := filepath.Join(dir, "compose.yaml")
	doc := `name: ` + project + `
services:
  db:
    image: ` + image + `
    environment: {VERSION: db1}
    ports: ["127.0.0.1:` + dbPort + `:8080"]
    healthcheck:
      test: ["CMD", "/healthprobe"]
      interval: 250ms
      retries: 2
    privileged: true
  api:
    image: ` + image + `
    env_file: api.env
    ports: ["127.0.0.1:` + apiPort + `:8080"]
    depends_on:
      db: {condition: service_healthy}
    healthcheck:
      test: ["CMD", "/healthprobe"]
      interval: 250ms
    deploy:
      replicas: 2
      update_config: {parallelism: 1, order: start-first}
`
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "api.env"), []byte("VERSION=api1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "http://"+d.Addr(), "--token", d.Token(), "deploy", "-f", file, "--timeout", "90s")
	if r.code != 0 {
		t.Fatalf("exit %d; stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, w := range []string{"service db: privileged (true) is not supported"} {
		if !strings.Contains(r.stderr, "warning: ") || !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks warning %q:\n%s", w, r.stderr)
		}
	}
	dbAt, apiAt := strings.Index(r.stdout, "of db"), strings.Index(r.stdout, "of api started")
	if dbAt < 0 || apiAt < 0 || !strings.Contains(r.stdout[:apiAt], "succeeded") {
		t.Errorf("db was not deployed and healthy before api started:\n%s", r.stdout)
	}
	c := api.NewClient("http://"+d.Addr(), d.Token())
	waitUntil(t, 90*time.Second, "api deployment succeeded", func() bool {
		deps, err := c.Deployments(context.Background(), "api", 1)
		return err == nil && len(deps) == 1 && deps[0].Status == "succeeded"
	})
	svc, err := c.Service(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(svc.Instances); n != 2 {
		t.Errorf("api instances: %d, want 2 (deploy.replicas)", n)
	}

	// Planned against what runs: api's environment changed, db did not.
	if err := os.WriteFile(filepath.Join(dir, "api.env"), []byte("VERSION=api2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "http://"+d.Addr(), "--token", d.Token(), "deploy", "-f", file, "--dry-run")
	if r.code != 0 {
		t.Fatalf("dry run: exit %d; stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"planned against what the daemon runs", "db       routed  rolling   unchanged",
		"api      routed  rolling   changed: env VERSION changed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "api2") {
		t.Errorf("dry run shows an environment value:\n%s", r.stdout)
	}
	if deps, err := c.Deployments(context.Background(), "api", 5); err != nil || len(deps) != 1 {
		t.Errorf("api deployments after the dry run: %d (%v), want still 1", len(deps), err)
	}
}

// TestDeployDryRunWithoutDaemon plans a whole stack (every kind) with no daemon running: it
// prints each service's kind and strategy, writes no state, and compose-go's own log lines
// become cutover warnings instead of leaking.
func TestDeployDryRunWithoutDaemon(t *testing.T) {
	var leaked bytes.Buffer
	logrus.SetOutput(&leaked)
	t.Cleanup(func() { logrus.SetOutput(os.Stderr) })
	dir := t.TempDir()
	for name, data := range map[string]string{
		"web/Dockerfile": "FROM scratch\n", "db_password": "hunter2\n",
		"compose.yaml": `version: "3"
services:
  web:
    build: ./web
    ports: ["127.0.0.1:18080:8080"]
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
  db:
    image: demo:1
    read_only: yes
    volumes: ["data:/data"]
    secrets: [db_password]
    healthcheck: {test: ["CMD", "/healthprobe"]}
  migrate:
    image: demo:1
    restart: "no"
  worker:
    image: demo:1
    x-cutover: {min_ready: 2s}
volumes: {data: {}}
secrets:
  db_password: {file: ./db_password}
`} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	state := filepath.Join(t.TempDir(), "state")
	r := runWith(t, cli.Commands{}, "--state", state, "--addr", "http://127.0.0.1:1", "--token", "x",
		"deploy", "-f", filepath.Join(dir, "compose.yaml"), "--dry-run")
	if r.code != 0 {
		t.Fatalf("exit %d; stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"no daemon answered: planned against nothing running",
		"db       stateful  stop-then-start    new",
		"migrate  job       run to completion  new",
		"web      routed    rolling            new",
		"worker   worker    start-first        new",
		"warning: " + filepath.Join(dir, "compose.yaml") + ": version is obsolete and ignored",
		"for boolean is not supported by YAML 1.2",
		"dry run: nothing was changed",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "hunter2") {
		t.Errorf("the secret's contents were printed:\n%s%s", r.stdout, r.stderr)
	}
	if leaked.Len() > 0 {
		t.Errorf("compose-go logged past cutover: %q", leaked.String())
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state directory %s: %v; want none written by a dry run", state, err)
	}
}

// TestDeployComposeInvalidStack: a stack cutover cannot run exits 2 with the position of the
// key at fault, and nothing is deployed (no daemon is even asked to).
func TestDeployComposeInvalidStack(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	cases := map[string]string{
		"services:\n  a:\n    image: x\n    ports: [\"8080:80\"]\n  b:\n    image: x\n    ports: [\"127.0.0.1:8080:80\"]\n": "compose.yaml:7:13: services.b.ports: port 8080 is already published by service a",
		"services:\n  a:\n    build: ./nope\n": "compose.yaml:3:5: services.a.build.context: build context " + filepath.Join(dir, "nope") + " does not exist",
		"services:\n  a:\n    image: x\n    depends_on: {b: {condition: service_started}}\n  b:\n    image: x\n    depends_on: {a: {condition: service_started}}\n": "compose.yaml:4:18: services.a.depends_on: dependency cycle detected",
		"services:\n  a:\n    image: x\n    volumes: [\"data:/d\"]\n  b:\n    image: x\n    volumes: [\"data:/e\"]\nvolumes: {data: {}}\n":                          "compose.yaml:7:15: services.b.volumes: volume data is already the data of stateful service a: two stateful services cannot share one",
		"services:\n  a:\n    image: x\n    secrets: [pw]\nsecrets:\n  pw: {file: ./nope.txt}\n":                                                                    "compose.yaml:4:15: services.a.secrets.pw: secret file " + filepath.Join(dir, "nope.txt") + " does not exist",
	}
	for doc, want := range cases {
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, extra := range [][]string{{"--dry-run"}, nil} {
			r := runWith(t, cli.Commands{}, append([]string{"--state", t.TempDir(), "--addr", "http://127.0.0.1:1", "--token", "x",
				"deploy", "-f", file}, extra...)...)
			if r.code != cli.ExitUsage || !strings.Contains(r.stderr, want) {
				t.Errorf("deploy %v: exit %d, stderr %q; want exit 2 and %q", extra, r.code, r.stderr, want)
			}
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDeployComposeBuild deploys a routed service from build: on a real daemon and the real
// engine: the image is built through the Engine API with its progress shown, the revision
// runs that exact image ID, an unchanged build plans as unchanged, and a failing build
// refuses the deploy with the builder's error and deploys nothing.
func TestDeployComposeBuild(t *testing.T) {
	base := dockertest.DemoImage(t)
	cli := dockertest.Client(t)
	e := startCompose(t)
	d, owner, project := e.d, e.state, e.project

	dir := filepath.Join(t.TempDir(), "proj")
	write := func(name, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("web/Dockerfile", "FROM "+base+"\nARG VERSION\nENV VERSION=$VERSION\n")
	write("token.txt", "tok-secret-value")
	write("compose.yaml", `name: `+project+`
services:
  web:
    build: {context: ./web, args: {VERSION: built1}}
    ports: ["127.0.0.1:`+freePort(t)+`:8080"]
    volumes: ["data:/data"]
    secrets: [token]
volumes: {data: {}}
secrets:
  token: {file: ./token.txt}
`)
	file := filepath.Join(dir, "compose.yaml")
	r := runCLI(t, "http://"+d.Addr(), "--token", d.Token(), "deploy", "-f", file, "--wait", "--timeout", "90s")
	if r.code != 0 {
		t.Fatalf("exit %d; stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "building web from "+filepath.Join(dir, "web")) || !strings.Contains(r.stderr, "Step 1/") {
		t.Errorf("build progress not shown:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "build is ignored") {
		t.Errorf("the build is warned about as ignored:\n%s", r.stderr)
	}
	c := api.NewClient("http://"+d.Addr(), d.Token())
	revs, err := c.History(context.Background(), "web")
	if err != nil || len(revs) != 1 {
		t.Fatalf("history: %v, %v", revs, err)
	}
	img, _, err := cli.ImageInspectWithRaw(context.Background(), revs[0].Image)
	if err != nil || !strings.HasPrefix(revs[0].Image, "sha256:") || img.ID != revs[0].Image ||
		!slices.Contains(img.Config.Env, "VERSION=built1") {
		t.Fatalf("revision image %q (%v): want the built image's ID with VERSION=built1", revs[0].Image, err)
	}
	if strings.Contains(r.stdout+r.stderr, "tok-secret-value") {
		t.Errorf("the secret's contents were printed")
	}
	checkAttachments(t, owner, project)

	r = runCLI(t, "http://"+d.Addr(), "--token", d.Token(), "deploy", "-f", file, "--dry-run")
	if !strings.Contains(r.stdout, "web      routed  rolling   unchanged") || !strings.Contains(r.stdout, "stack "+project) {
		t.Errorf("dry run of an unchanged build:\n%s%s", r.stdout, r.stderr)
	}

	write("web/Dockerfile", "FROM "+base+"\nRUN [\"/no-such-step\"]\n")
	r = runCLI(t, "http://"+d.Addr(), "--token", d.Token(), "deploy", "-f", file, "--wait", "--timeout", "90s")
	if r.code == 0 || !strings.Contains(r.stderr, "build web (nothing was deployed)") || !strings.Contains(r.stderr, "/no-such-step") {
		t.Errorf("failing build: exit %d, stderr %q; want the builder's error", r.code, r.stderr)
	}
	if revs, err := c.History(context.Background(), "web"); err != nil || len(revs) != 1 {
		t.Errorf("revisions after a failed build: %d (%v), want still 1", len(revs), err)
	}
}

// checkAttachments checks the running web container joined the project network, without
// "web" as alias there (the name leads to the proxy: a container on the network with the
// stack's host entry web:GATEWAY reaches http://web:8080), mounts the labelled named volume,
// and has the secret read-only at /run/secrets/token.
func checkAttachments(t *testing.T, owner, project string) {
	t.Helper()
	cli := dockertest.Client(t)
	ctx := context.Background()
	list, err := cli.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", docker.LabelOwner+"="+owner), filters.Arg("label", docker.LabelService+"=web"))})
	if err != nil || len(list) != 1 {
		t.Fatalf("web containers: %d, %v", len(list), err)
	}
	c, err := cli.ContainerInspect(ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	ep := c.NetworkSettings.Networks[project+"_default"]
	if ep == nil || slices.Contains(ep.Aliases, "web") {
		t.Errorf("web networks %v: want %s_default, without alias web", slices.Collect(maps.Keys(c.NetworkSettings.Networks)), project)
	}
	n, err := cli.NetworkInspect(ctx, project+"_default", network.InspectOptions{})
	if err != nil || len(n.IPAM.Config) == 0 {
		t.Fatalf("network %s_default: %+v, %v", project, n.IPAM, err)
	}
	var volume, secret bool
	for _, m := range c.Mounts {
		volume = volume || (m.Name == project+"_data" && m.Destination == "/data" && m.RW)
		secret = secret || (m.Destination == "/run/secrets/token" && !m.RW)
	}
	if !volume || !secret {
		t.Errorf("web mounts %+v: want volume %s_data at /data and the secret read-only", c.Mounts, project)
	}
	if v, err := cli.VolumeInspect(ctx, project+"_data"); err != nil || v.Labels[docker.LabelProject] != project {
		t.Errorf("volume %s_data: labels %v, %v", project, v.Labels, err)
	}
	name := "cutover-test-probe-" + filepath.Base(owner)
	_, err = cli.ContainerCreate(ctx, &container.Config{Image: dockertest.ProbeImage(t),
		Env: []string{"HEALTH_URL=http://web:8080/healthz"}, Labels: map[string]string{docker.LabelOwner: owner}},
		&container.HostConfig{NetworkMode: container.NetworkMode(project + "_default"),
			ExtraHosts: []string{"web:" + n.IPAM.Config[0].Gateway}}, nil, nil, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.ContainerStart(ctx, name, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	okc, errc := cli.ContainerWait(ctx, name, container.WaitConditionNotRunning)
	select {
	case r := <-okc:
		if r.StatusCode != 0 {
			t.Errorf("GET http://web:8080/healthz from the project network: exit %d", r.StatusCode)
		}
	case err := <-errc:
		t.Fatal(err)
	}
}

// TestDeployComposeJob runs a one-shot job before the service that waits for it to complete,
// on a real daemon and the real engine: a job that succeeds lets web deploy; one that exits
// non-zero fails the stack's deploy (exit 3) naming it, its exit code and the last lines of its
// output with secrets hidden, and web is not deployed; one that outlives its timeout is
// stopped and named.
func TestDeployComposeJob(t *testing.T) {
	img := dockertest.DemoImage(t)
	dc := dockertest.Client(t)
	e := startCompose(t)
	d, owner, project := e.d, e.state, e.project

	file := filepath.Join(t.TempDir(), "compose.yaml")
	port := freePort(t)
	deploy := func(jobEnv, version string) result {
		t.Helper()
		doc := `name: ` + project + `
services:
  migrate:
    image: ` + img + `
    restart: "no"
    environment: {DB_PASSWORD: hunter2-secret-pw, PRINT_ENV: DB_PASSWORD` + jobEnv + `}
    x-cutover: {timeout: 3s}
  web:
    image: ` + img + `
    ports: ["127.0.0.1:` + port + `:8080"]
    environment: {VERSION: ` + version + `}
    depends_on:
      migrate: {condition: service_completed_successfully}
`
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return e.cli(t, "deploy", "-f", file, "--wait", "--timeout", "90s")
	}
	c := api.NewClient("http://"+d.Addr(), d.Token())
	revisions := func() int {
		revs, err := c.History(context.Background(), "web")
		if err != nil {
			t.Fatal(err)
		}
		return len(revs)
	}

	r := deploy(", EXIT_AFTER: 100ms, EXIT_CODE: 0", "v1")
	job, web := strings.Index(r.stdout, "job migrate: completed"), strings.Index(r.stdout, "web")
	if r.code != 0 || job < 0 || web < job {
		t.Fatalf("exit %d; want the job completed before web deployed:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := revisions(); n != 1 {
		t.Fatalf("web revisions: %d, want 1", n)
	}

	// The same job, completed before: left alone, as compose leaves an unchanged service.
	r = deploy(", EXIT_AFTER: 100ms, EXIT_CODE: 0", "v1b")
	if r.code != 0 || !strings.Contains(r.stdout, "job migrate: unchanged and completed before, left alone") ||
		strings.Contains(r.stdout, "job migrate: running") || !strings.Contains(r.stderr, "  migrate: unchanged, completed before\n") {
		t.Fatalf("unchanged job: exit %d; want it left alone:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := e.cli(t, "status", "-f", file); !strings.Contains(r.stdout, "completed with this definition") {
		t.Errorf("status -f of a completed job:\n%s%s", r.stdout, r.stderr)
	}

	r = deploy(", EXIT_AFTER: 100ms, EXIT_CODE: 3", "v2")
	if r.code != cli.ExitFailed || !regexp.MustCompile(`compose.yaml:\d+:\d+: job migrate exited with code 3; last lines of its output:`).MatchString(r.stderr) {
		t.Errorf("failing job: exit %d, stderr %q; want exit 3 naming the job and its code", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "DB_PASSWORD=[redacted]") || strings.Contains(r.stdout+r.stderr, "hunter2-secret-pw") {
		t.Errorf("failing job's output: want DB_PASSWORD redacted:\n%s", r.stderr)
	}
	if n := revisions(); n != 2 {
		t.Errorf("web revisions after a failed job: %d, want still 2", n)
	}

	r = deploy("", "v3")
	if r.code != cli.ExitFailed || !strings.Contains(r.stderr, "job migrate did not finish within 3s; stopped") {
		t.Errorf("job past its timeout: exit %d, stderr %q", r.code, r.stderr)
	}
	if n := revisions(); n != 2 {
		t.Errorf("web revisions after a job that timed out: %d, want still 2", n)
	}
	list, err := dc.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", docker.LabelOwner+"="+owner), filters.Arg("label", docker.LabelService+"=migrate"))})
	if err != nil || len(list) != 0 {
		t.Errorf("job containers left: %d, %v", len(list), err)
	}
}
