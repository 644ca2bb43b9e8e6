package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"

	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
)

// TestProjectNetworkVolumeAndSecret runs a stack's pieces on the real engine: a project
// network where a container is reached by its service name, a named volume whose data
// outlives the container, and a secret file mounted read-only at /run/secrets.
func TestProjectNetworkVolumeAndSecret(t *testing.T) {
	cli := dockertest.Client(t)
	img := dockertest.DemoImage(t)
	project := randID(t, "stk")
	owner := t.TempDir()
	net, vol := project+"_default", project+"_data"
	var d *Driver
	t.Cleanup(func() { // registered first, so it runs after the containers are removed
		ctx := context.Background()
		if err := d.RemoveNetworks(ctx, project); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if err := d.RemoveVolumes(ctx, project); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	d = newTestDriver(t, owner, Options{})
	ctx := t.Context()
	gw, err := d.EnsureNetwork(ctx, net, project)
	if err != nil || gw == "" {
		t.Fatalf("EnsureNetwork: %q, %v", gw, err)
	}
	if again, err := d.EnsureNetwork(ctx, net, project); err != nil || again != gw {
		t.Errorf("EnsureNetwork again: %q, %v; want the same gateway %s", again, err, gw)
	}
	if _, err := d.EnsureNetwork(ctx, net, "other"); err == nil {
		t.Errorf("EnsureNetwork of another project's network succeeded")
	}
	for range 2 {
		if err := d.EnsureVolume(ctx, vol, project); err != nil {
			t.Fatalf("EnsureVolume: %v", err)
		}
	}
	secret := filepath.Join(t.TempDir(), "db_password")
	if err := os.WriteFile(secret, []byte("s3cret-value"), 0o600); err != nil {
		t.Fatal(err)
	}
	dbOpts := &runtime.ContainerOptions{
		Networks: []runtime.NetworkAttachment{{Name: net, Aliases: []string{"db"}}},
		Mounts: []runtime.Mount{{Volume: true, Source: vol, Target: "/data"},
			{Source: secret, Target: "/run/secrets/db_password", ReadOnly: true}},
	}
	db := runtime.InstanceSpec{ID: randID(t, "db-1-"), Service: "db", Revision: 1, Image: img,
		StopGrace: 2 * time.Second, Container: dbOpts}
	if err := d.Start(ctx, []runtime.InstanceSpec{db}); err != nil {
		t.Fatal(err)
	}
	waitServes(t, waitStatus(t, d, db.ID, "running", func(s runtime.Status) bool { return s.Addr != "" }).Addr)

	if got := readFile(t, containerName(db.ID), "/run/secrets/db_password"); got != "s3cret-value" {
		t.Errorf("secret in the container = %q", got)
	}
	c, err := cli.ContainerInspect(ctx, containerName(db.ID))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Mounts {
		if m.Destination == "/run/secrets/db_password" && m.RW {
			t.Errorf("secret mounted read-write")
		}
	}

	// Reached by name on the project network, and not by a name nobody has.
	probe := newTestDriver(t, t.TempDir(), Options{RestartPolicy: "no"})
	for url, want := range map[string]int64{"http://db:8080/healthz": 0, "http://nosuch:8080/healthz": 1} {
		p := runtime.InstanceSpec{ID: randID(t, "probe-1-"), Image: dockertest.ProbeImage(t),
			Env:       map[string]string{"HEALTH_URL": url},
			Container: &runtime.ContainerOptions{Networks: []runtime.NetworkAttachment{{Name: net}}}}
		if err := probe.Start(ctx, []runtime.InstanceSpec{p}); err != nil {
			t.Fatal(err)
		}
		if code := exitCode(t, containerName(p.ID)); code != want {
			t.Errorf("GET %s from the network: exit %d, want %d", url, code, want)
		}
	}

	// The volume's data outlives its container.
	writeFile(t, containerName(db.ID), "/data", "kept.txt", "row 1")
	if err := d.Stop(ctx, db.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(ctx, db.ID); err != nil {
		t.Fatal(err)
	}
	db2 := db
	db2.ID, db2.Revision = randID(t, "db-2-"), 2
	if err := d.Start(ctx, []runtime.InstanceSpec{db2}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, containerName(db2.ID), "/data/kept.txt"); got != "row 1" {
		t.Errorf("volume data after a new container: %q, want %q", got, "row 1")
	}
	v, err := cli.VolumeInspect(ctx, vol)
	if err != nil || v.Labels[LabelProject] != project {
		t.Errorf("volume %s: labels %v, %v; want %s=%s", vol, v.Labels, err, LabelProject, project)
	}
}

// TestBuild builds through the Engine API: progress shown, args and target honoured, the
// image ID returned; a failing step is the builder's error and leaves no tag.
func TestBuild(t *testing.T) {
	cli := dockertest.Client(t)
	base := dockertest.DemoImage(t)
	d := newTestDriver(t, t.TempDir(), Options{})
	dir := t.TempDir()
	df := "FROM " + base + " AS one\nARG GREETING=none\nENV GREETING=$GREETING STAGE=one\n" +
		"FROM " + base + " AS two\nENV STAGE=two\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := "cutover-build/" + randID(t, "test") + ":1"
	t.Cleanup(func() { _, _ = cli.ImageRemove(context.Background(), tag, image.RemoveOptions{}) })
	var progress bytes.Buffer
	id, err := d.Build(t.Context(), BuildSpec{Context: dir, Args: map[string]string{"GREETING": "hi"}, Target: "one", Tag: tag}, &progress)
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, progress.String())
	}
	if !strings.Contains(progress.String(), "Step 1/") {
		t.Errorf("progress shows no steps:\n%s", progress.String())
	}
	img, _, err := cli.ImageInspectWithRaw(t.Context(), tag)
	if err != nil || img.ID != id {
		t.Fatalf("tag %s is %s (%v), Build returned %s", tag, img.ID, err, id)
	}
	for _, want := range []string{"GREETING=hi", "STAGE=one"} {
		if !slices.Contains(img.Config.Env, want) {
			t.Errorf("built image env %v lacks %s", img.Config.Env, want)
		}
	}

	bad := "cutover-build/" + randID(t, "test") + ":bad"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\nRUN [\"/no-such-step\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Build(t.Context(), BuildSpec{Context: dir, Tag: bad}, io.Discard); err == nil || !strings.Contains(err.Error(), "/no-such-step") {
		t.Errorf("failing build: %v; want the builder's error naming /no-such-step", err)
	}
	if _, _, err := cli.ImageInspectWithRaw(t.Context(), bad); !cerrdefs.IsNotFound(err) {
		t.Errorf("a failed build left tag %s: %v", bad, err)
	}
}

// readFile copies one file out of a container.
func readFile(t *testing.T, name, path string) string {
	t.Helper()
	rc, _, err := dockertest.Client(t).CopyFromContainer(t.Context(), name, path)
	if err != nil {
		t.Fatalf("copy %s from %s: %v", path, name, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeFile copies a file into a container's directory.
func writeFile(t *testing.T, name, dir, file, data string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: file, Mode: 0o644, Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := dockertest.Client(t).CopyToContainer(t.Context(), name, dir, &buf, container.CopyToContainerOptions{}); err != nil {
		t.Fatalf("copy %s into %s:%s: %v", file, name, dir, err)
	}
}

// exitCode waits for a container to exit and returns its exit code.
func exitCode(t *testing.T, name string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	okc, errc := dockertest.Client(t).ContainerWait(ctx, name, container.WaitConditionNotRunning)
	select {
	case r := <-okc:
		return r.StatusCode
	case err := <-errc:
		t.Fatalf("wait for %s: %v", name, err)
	}
	return -1
}
