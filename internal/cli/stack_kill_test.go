package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/cutover/cutover/internal/cli"

	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
	"github.com/cutover/cutover/internal/testbin"
)

// dbStack is a stack of one stateful service: the demo app in its SQLite mode, its database
// file on the named volume data, creating its table on first start.
func dbStack(project, img, version string) string {
	return fmt.Sprintf(`name: %s
services:
  db:
    image: %s
    environment: {VERSION: %s, DB_DRIVER: sqlite, DATABASE_URL: /data/app.db, DEMO_DB_SCHEMA: v0, DEMO_DB_CREATE: "1"}
    volumes: ["data:/data"]
    healthcheck: {test: ["CMD", "/healthprobe"], interval: 200ms, retries: 3}
volumes: {data: {}}
`, project, img, version)
}

// containerAddr is the address of the container's port 8080 on its first network, which the
// host reaches on a local Linux engine.
func containerAddr(t *testing.T, dc *client.Client, id string) string {
	t.Helper()
	c, err := dc.ContainerInspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range c.NetworkSettings.Networks {
		if n.IPAddress != "" {
			return net.JoinHostPort(n.IPAddress, "8080")
		}
	}
	t.Fatalf("container %s has no address", id)
	return ""
}

// addUsers writes n users to the demo app at addr and returns their ids; each 201 means the
// row is committed.
func addUsers(t *testing.T, addr, prefix string, n int) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	for i := range n {
		name := fmt.Sprintf("%s-%d", prefix, i)
		resp, err := http.Post("http://"+addr+"/users", "application/json", strings.NewReader(`{"name":"`+name+`"}`))
		if err != nil {
			t.Fatalf("POST /users: %v", err)
		}
		var u struct{ ID int64 }
		err = json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&u)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || err != nil {
			t.Fatalf("POST /users: %s, %v", resp.Status, err)
		}
		out[u.ID] = name
	}
	return out
}

// missingUsers counts the users of want that the demo app at addr does not return.
func missingUsers(t *testing.T, addr string, want map[int64]string) int {
	t.Helper()
	missing := 0
	for id, name := range want {
		resp, err := http.Get(fmt.Sprintf("http://%s/users/%d", addr, id))
		if err != nil {
			t.Fatalf("GET /users/%d: %v", id, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), name) {
			missing++
		}
	}
	return missing
}

// killDeployAt runs `cutover deploy -f file` as its own process and kills it with SIGKILL as
// soon as a line of its output contains marker; it reports whether it saw the marker.
func killDeployAt(t *testing.T, state, file, marker string) bool {
	t.Helper()
	cmd := exec.Command(testbin.Cutover(t), "--state", state, "--addr", "http://127.0.0.1:1", "--token", "x",
		"deploy", "-f", file)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	seen := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		t.Logf("deploy: %s", sc.Text())
		if strings.Contains(sc.Text(), marker) {
			seen = true
			_ = cmd.Process.Signal(syscall.SIGKILL)
			break
		}
	}
	_, _ = io.Copy(io.Discard, out)
	_ = cmd.Wait()
	return seen
}

// TestStatefulChangeKilled changes a stateful service (the demo app in SQLite mode on a named
// volume) and kills the deploying process with SIGKILL in the middle: once the old container
// is stopped (downtime), and once the new one is starting. Each time, the next deploy of the
// same file converges (one container, of the new definition, ready, at a revision never used
// before) and every row committed before is still there. No daemon takes part: a stack of
// stateful services is deployed by the CLI alone.
func TestStatefulChangeKilled(t *testing.T) {
	img := dockertest.DemoImage(t)
	dc := dockertest.Client(t)
	state, _ := filepath.Abs(t.TempDir())
	project := "tk" + strings.ToLower(filepath.Base(filepath.Dir(state)))
	owner := filepath.Join(state, "stack", project)
	t.Cleanup(func() {
		ctx := context.Background()
		_ = dockertest.RemoveContainers(ctx, dc, docker.LabelOwner, owner)
		_ = dockertest.RemoveNetworks(ctx, dc, docker.LabelProject, project)
		_ = dc.VolumeRemove(ctx, project+"_data", true)
	})
	file := filepath.Join(t.TempDir(), "compose.yaml")
	write := func(version string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(dbStack(project, img, version)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deploy := func() result {
		t.Helper()
		return runWith(t, cli.Commands{}, "--state", state, "--addr", "http://127.0.0.1:1", "--token", "x", "deploy", "-f", file)
	}

	write("d1")
	if r := deploy(); r.code != 0 {
		t.Fatalf("first deploy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	db := stackContainers(t, dc, owner)["db"]
	users := addUsers(t, containerAddr(t, dc, db), "before", 40)

	for i, marker := range []string{"downtime starts", "db: starting"} {
		version := fmt.Sprintf("d%d", i+2)
		write(version)
		if !killDeployAt(t, state, file, marker) {
			t.Fatalf("the deploy of %s never printed %q", version, marker)
		}
		r := deploy()
		now := stackContainers(t, dc, owner)
		if r.code != 0 || len(now) != 1 || now["db"] == db {
			t.Fatalf("deploy after kill -9 at %q: exit %d, containers %v (old %s)\n%s%s", marker, r.code, now, db, r.stdout, r.stderr)
		}
		db = now["db"]
		addr := containerAddr(t, dc, db)
		waitUntil(t, 60*time.Second, "db answers", func() bool {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil && resp.StatusCode == http.StatusOK
		})
		if n := missingUsers(t, addr, users); n > 0 {
			t.Errorf("after kill -9 at %q: %d of %d committed users lost", marker, n, len(users))
		}
		// The engine may finish a container create the killed command had asked for after the
		// deploy above listed the stack: the next deploy removes such leftovers.
		if r := deploy(); r.code != 0 || !strings.Contains(r.stdout, "db: unchanged, left alone") {
			t.Errorf("a second deploy of the same file after kill -9 at %q: exit %d\n%s%s", marker, r.code, r.stdout, r.stderr)
		}
		if all := allContainers(t, dc, owner); all != 1 || stackContainers(t, dc, owner)["db"] != db {
			t.Errorf("after kill -9 at %q and two deploys: %d containers of the stack, want 1 (%s)", marker, all, db)
		}
		for id, name := range addUsers(t, addr, version, 5) {
			users[id] = name
		}
	}
	r := runWith(t, cli.Commands{}, "--state", state, "--addr", "http://127.0.0.1:1", "-o", "json", "status", "-f", file)
	if r.code != 0 || !strings.Contains(r.stdout, `"revision": 3`) {
		t.Errorf("status -f after two interrupted deploys: want revision 3 (never reused)\n%s%s", r.stdout, r.stderr)
	}
}

// allContainers counts the containers of owner, exited ones too.
func allContainers(t *testing.T, dc *client.Client, owner string) int {
	t.Helper()
	list, err := dc.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", docker.LabelOwner+"="+owner))})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// serveProc is `cutover serve` as a process of its own, to be killed with SIGKILL.
type serveProc struct {
	cmd        *exec.Cmd
	url, token string
}

// startServe starts a daemon on state and waits until its API answers.
func startServe(t *testing.T, state string) *serveProc {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	cmd := exec.Command(testbin.Cutover(t), "serve", "--state", state, "--listen", "127.0.0.1:0", "--addr-file", addrFile)
	logf, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd}
	t.Cleanup(p.kill9)
	waitUntil(t, 60*time.Second, "the daemon's address and token", func() bool {
		a, err1 := os.ReadFile(addrFile)
		tok, err2 := os.ReadFile(filepath.Join(state, "token"))
		p.url, p.token = "http://"+strings.TrimSpace(string(a)), strings.TrimSpace(string(tok))
		return err1 == nil && err2 == nil && len(a) > 0 && len(tok) > 0
	})
	waitUntil(t, 60*time.Second, "the daemon's API", func() bool {
		resp, err := http.Get(p.url + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	return p
}

func (p *serveProc) kill9() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// TestStatefulChangeDaemonKilled changes the stateful db and the routed web of a stack and
// kills the daemon with SIGKILL as soon as db's downtime starts. db's change is the
// command's own: it completes, with every committed row; web's deploy fails (no daemon).
// Once the daemon is started again, the same deploy converges: db left alone, web deployed.
func TestStatefulChangeDaemonKilled(t *testing.T) {
	img := dockertest.DemoImage(t)
	dc := dockertest.Client(t)
	state, _ := filepath.Abs(t.TempDir())
	project := "td" + strings.ToLower(filepath.Base(filepath.Dir(state)))
	owner := filepath.Join(state, "stack", project)
	t.Cleanup(func() { // registered first: runs after the daemons are killed
		ctx := context.Background()
		for _, o := range []string{state, owner} {
			_ = dockertest.RemoveContainers(ctx, dc, docker.LabelOwner, o)
		}
		_ = dockertest.RemoveNetworks(ctx, dc, docker.LabelProject, project)
		_ = dc.VolumeRemove(ctx, project+"_data", true)
	})
	port := freePort(t)
	file := filepath.Join(t.TempDir(), "compose.yaml")
	write := func(web, db string) {
		t.Helper()
		doc := dbStack(project, img, db) + `  web:
    image: ` + img + `
    ports: ["127.0.0.1:` + port + `:8080"]
    environment: {VERSION: ` + web + `}
    depends_on: {db: {condition: service_healthy}}
`
		doc = strings.Replace(doc, "volumes: {data: {}}\n", "", 1) + "volumes: {data: {}}\n"
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := startServe(t, state)
	deploy := func() result {
		t.Helper()
		return runWith(t, cli.Commands{}, "--state", state, "--addr", p.url, "--token", p.token,
			"deploy", "-f", file, "--wait", "--timeout", "90s")
	}
	write("w1", "d1")
	if r := deploy(); r.code != 0 {
		t.Fatalf("first deploy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	checkWeb(t, port, "w1")
	db := stackContainers(t, dc, owner)["db"]
	users := addUsers(t, containerAddr(t, dc, db), "before", 30)

	write("w2", "d2")
	cmd := exec.Command(testbin.Cutover(t), "--state", state, "--addr", p.url, "--token", p.token,
		"deploy", "-f", file, "--wait", "--timeout", "90s")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), "downtime starts") {
			p.kill9()
		}
	}
	err = cmd.Wait()
	output := strings.Join(lines, "\n") + "\n" + stderr.String()
	if p.cmd.ProcessState == nil || err == nil || !strings.Contains(output, "db: new container") && !strings.Contains(output, "downtime ended") {
		t.Fatalf("deploy with the daemon killed at db's downtime: %v; want db replaced and web failing\n%s", err, output)
	}
	db = stackContainers(t, dc, owner)["db"]
	if n := missingUsers(t, containerAddr(t, dc, db), users); n > 0 {
		t.Errorf("daemon killed during db's change: %d of %d committed users lost", n, len(users))
	}

	p = startServe(t, state)
	r := deploy()
	if r.code != 0 || !strings.Contains(r.stdout, "db: unchanged, left alone") {
		t.Fatalf("deploy after the daemon's restart: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	checkWeb(t, port, "w2")
	if now := stackContainers(t, dc, owner)["db"]; now != db || missingUsers(t, containerAddr(t, dc, db), users) > 0 {
		t.Errorf("after the daemon's restart: db %s (was %s) or its users changed", now, db)
	}
}
