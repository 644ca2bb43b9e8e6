// Package dockertest gives tests the real Docker engine of this machine: a client (or a skip
// with the reason, except under CI=true where an absent engine fails the test), images built
// through the Engine API FROM scratch around the static demo app, and clean-up of the
// containers a test made, by label. It never pulls and never removes images or containers
// it was not asked to.
package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
)

// Image tags built by DemoImage and HealthImage.
const (
	DemoTag   = "cutover-demoapp:test"
	HealthTag = "cutover-demoapp:test-healthcheck"
)

// InstallScript is what to run when the engine does not answer.
const InstallScript = "scripts/install-docker-check"

var (
	clientOnce sync.Once
	sharedCli  *client.Client
	clientErr  error
)

// Client returns a client for the local Docker engine once it answers a ping. When it does
// not, the test is skipped with the reason, or fails when the environment has CI=true.
// The client is shared by the whole test process and must not be closed.
func Client(t testing.TB) *client.Client {
	t.Helper()
	clientOnce.Do(func() {
		sharedCli, clientErr = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if clientErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := sharedCli.Ping(ctx); err != nil {
			clientErr = fmt.Errorf("ping docker engine: %w", err)
		}
	})
	if clientErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("docker engine required under CI: %v", clientErr)
		}
		t.Skipf("docker engine not reachable (run %s): %v", InstallScript, clientErr)
	}
	return sharedCli
}

// onceImage builds one image at most once per test process.
type onceImage struct {
	once sync.Once
	err  error
}

var demo, healthy onceImage

// DemoImage returns DemoTag, an image FROM scratch holding the static demo app as
// /demoapp (its entrypoint) and healthprobe as /healthprobe, built once per test process.
func DemoImage(t testing.TB) string {
	t.Helper()
	cli := Client(t)
	demo.once.Do(func() { demo.err = buildDemo(cli) })
	if demo.err != nil {
		t.Fatalf("build image %s: %v", DemoTag, demo.err)
	}
	return DemoTag
}

// HealthImage returns HealthTag: DemoImage with a HEALTHCHECK running /healthprobe every
// 200ms; failures in the first 2s do not count, after that one failure makes the container
// unhealthy. It is built once per test process.
func HealthImage(t testing.TB) string {
	t.Helper()
	base := DemoImage(t)
	cli := Client(t)
	healthy.once.Do(func() {
		dockerfile := "FROM " + base + "\n" +
			`HEALTHCHECK --interval=200ms --timeout=2s --start-period=2s --retries=1 CMD ["/healthprobe"]` + "\n"
		healthy.err = Build(context.Background(), cli, HealthTag, map[string]File{"Dockerfile": {Data: []byte(dockerfile)}})
	})
	if healthy.err != nil {
		t.Fatalf("build image %s: %v", HealthTag, healthy.err)
	}
	return HealthTag
}

// StaticBinaries builds the demo app and healthprobe, static, into dir as demoapp and
// healthprobe: the build context of a test image FROM scratch.
func StaticBinaries(dir string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-o", dir+string(filepath.Separator),
		"github.com/cutover/cutover/examples/demoapp",
		"github.com/cutover/cutover/internal/runtime/docker/dockertest/healthprobe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build demoapp and healthprobe: %w\n%s", err, out)
	}
	return nil
}

func buildDemo(cli *client.Client) error {
	dir, err := os.MkdirTemp("", "cutover-dockertest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := StaticBinaries(dir); err != nil {
		return err
	}
	files := map[string]File{"Dockerfile": {Data: []byte("FROM scratch\n" +
		"COPY demoapp healthprobe /\n" +
		"ENV LISTEN_HOST=0.0.0.0\n" + // the published port reaches the container's interface
		`ENTRYPOINT ["/demoapp"]` + "\n")}}
	for _, name := range []string{"demoapp", "healthprobe"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		files[name] = File{Data: b, Mode: 0o755}
	}
	return Build(context.Background(), cli, DemoTag, files)
}

// File is one file of a build context.
type File struct {
	Data []byte
	Mode int64 // 0 means 0644
}

// Build builds an image tagged tag through the Engine API from a context of files, one of
// them named Dockerfile. It fails with the builder's own message when a step fails.
func Build(ctx context.Context, cli *client.Client, tag string, files map[string]File) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		f := files[name]
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		hdr := &tar.Header{Name: name, Mode: mode, Size: int64(len(f.Data)), ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	resp, err := cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{
		Tags: []string{tag}, Remove: true, ForceRemove: true, Dockerfile: "Dockerfile",
	})
	if err != nil {
		return fmt.Errorf("build %s: %w", tag, err)
	}
	defer resp.Body.Close()
	if err := streamError(resp.Body); err != nil {
		return fmt.Errorf("build %s: %w", tag, err)
	}
	return nil
}

// streamError reads Docker's JSON progress messages to the end and returns the first error.
func streamError(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m struct{ Error string }
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
}

// RemoveContainers force-removes every container labelled key=value, with its volumes.
func RemoveContainers(ctx context.Context, cli *client.Client, key, value string) error {
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", key+"="+value))})
	if err != nil {
		return fmt.Errorf("list containers %s=%s: %w", key, value, err)
	}
	var errs []error
	for _, c := range list {
		errs = append(errs, cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}))
	}
	return errors.Join(errs...)
}

// oneBinary is an image FROM scratch holding one static command of this module as its
// entrypoint, built once per test process and tagged by the binary's digest, so that test
// processes of other checkouts building at the same time cannot replace it under the test.
type oneBinary struct {
	once sync.Once
	tag  string
	err  error
}

var probe, caller oneBinary

// ProbeImage returns the image of healthprobe (see oneBinary).
func ProbeImage(t testing.TB) string { return probe.image(t, "healthprobe") }

// CallerImage returns the image of caller, a client that counts its failed requests to $URL
// (see oneBinary and dockertest/caller).
func CallerImage(t testing.TB) string { return caller.image(t, "caller") }

func (o *oneBinary) image(t testing.TB, name string) string {
	t.Helper()
	cli := Client(t)
	o.once.Do(func() { o.tag, o.err = buildOneBinary(cli, name) })
	if o.err != nil {
		t.Fatalf("build the %s image: %v", name, o.err)
	}
	return o.tag
}

func buildOneBinary(cli *client.Client, name string) (string, error) {
	dir, err := os.MkdirTemp("", "cutover-dockertest-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin,
		"github.com/cutover/cutover/internal/runtime/docker/dockertest/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", name, err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	tag := "cutover-" + name + ":" + hex.EncodeToString(sum[:8])
	return tag, Build(context.Background(), cli, tag, map[string]File{
		"Dockerfile": {Data: []byte("FROM scratch\nCOPY " + name + " /\nENTRYPOINT [\"/" + name + "\"]\n")},
		name:         {Data: b, Mode: 0o755},
	})
}

// RemoveNetworks removes every network labelled key=value (their containers gone first).
func RemoveNetworks(ctx context.Context, cli *client.Client, key, value string) error {
	list, err := cli.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("label", key+"="+value))})
	if err != nil {
		return fmt.Errorf("list networks %s=%s: %w", key, value, err)
	}
	var errs []error
	for _, n := range list {
		errs = append(errs, cli.NetworkRemove(ctx, n.ID))
	}
	return errors.Join(errs...)
}
