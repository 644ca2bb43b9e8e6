package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
)

// benchLabel marks the containers started by `docker run` here, for clean-up.
const benchLabel = "io.cutover.bench"

// env is what every bench shares: the image, the cutover binary, a running daemon.
type env struct {
	dir, image, bin, state string
	cli                    *client.Client
	api                    *api.Client
	serve                  *exec.Cmd
	serveLog               *bytes.Buffer
}

// tb adapts dockertest's testing.TB helpers to a command: a fatal error panics with
// the message, which setup recovers as an error.
type tb struct{ testing.TB }

type tbFailure string

func (tb) Helper()                        {}
func (tb) Fatalf(format string, a ...any) { panic(tbFailure(fmt.Sprintf(format, a...))) }
func (tb) Skipf(format string, a ...any)  { panic(tbFailure(fmt.Sprintf(format, a...))) }
func (tb) Fatal(a ...any)                 { panic(tbFailure(fmt.Sprint(a...))) }
func (tb) Logf(format string, a ...any)   {}
func (tb) Errorf(format string, a ...any) { panic(tbFailure(fmt.Sprintf(format, a...))) }

// demoImage builds the demo image and returns it with the shared engine client.
func demoImage() (image string, cli *client.Client, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, ok := r.(tbFailure)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("docker: %s", msg)
		}
	}()
	return dockertest.DemoImage(tb{}), dockertest.Client(tb{}), nil
}

func setup(ctx context.Context, logger *slog.Logger) (*env, error) {
	dir, err := os.MkdirTemp("", "cutover-bench-compose-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, state: filepath.Join(dir, "state"), bin: filepath.Join(dir, "cutover")}
	logger.Info("building demo image and cutover")
	if e.image, e.cli, err = demoImage(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", e.bin, "./cmd/cutover").CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("build cutover: %w\n%s", err, out)
	}
	if err := e.startServe(ctx); err != nil {
		e.close(logger)
		return nil, err
	}
	return e, nil
}

// startServe runs `cutover serve` as a child and waits for its API.
func (e *env) startServe(ctx context.Context) error {
	addrFile := filepath.Join(e.dir, "addr")
	e.serveLog = &bytes.Buffer{}
	e.serve = exec.Command(e.bin, "serve", "--state", e.state, "--listen", "127.0.0.1:0", "--addr-file", addrFile)
	e.serve.Stdout, e.serve.Stderr = e.serveLog, e.serveLog
	if err := e.serve.Start(); err != nil {
		return fmt.Errorf("start cutover serve: %w", err)
	}
	return poll(ctx, 20*time.Second, "cutover serve api", func() bool {
		addr, err1 := os.ReadFile(addrFile)
		token, err2 := os.ReadFile(filepath.Join(e.state, "token"))
		if err1 != nil || err2 != nil || len(bytes.TrimSpace(addr)) == 0 {
			return false
		}
		e.api = api.NewClient("http://"+strings.TrimSpace(string(addr)), strings.TrimSpace(string(token)))
		return e.api.Health(ctx) == nil
	})
}

// cutover runs the CLI against the bench's daemon with extra environment.
func (e *env) cutover(ctx context.Context, extraEnv []string, args ...string) error {
	cmd := exec.CommandContext(ctx, e.bin, append([]string{"--state", e.state}, args...)...)
	cmd.Env = append(os.Environ(), extraEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cutover %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func (e *env) close(logger *slog.Logger) {
	if e.serve != nil && e.serve.Process != nil {
		_ = e.serve.Process.Signal(os.Interrupt)
		_ = e.serve.Wait()
	}
	ctx := context.Background()
	owner, _ := filepath.Abs(e.state)
	labels := [][2]string{{docker.LabelOwner, owner}, {benchLabel, "1"}}
	for _, name := range []string{"one", "stack"} { // the stack containers of rollouts' projects
		project := fmt.Sprintf("cutover%s%d", name, os.Getpid())
		labels = append(labels, [2]string{docker.LabelOwner, filepath.Join(owner, "stack", project)})
	}
	for _, l := range labels {
		if err := dockertest.RemoveContainers(ctx, e.cli, l[0], l[1]); err != nil {
			logger.Warn("remove containers", "label", l[0], "error", err)
		}
	}
	if err := dockertest.RemoveNetworks(ctx, e.cli, docker.LabelOwner, owner); err != nil {
		logger.Warn("remove networks", "error", err)
	}
	vols, err := e.cli.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", docker.LabelOwner+"="+owner))})
	if err == nil {
		for _, v := range vols.Volumes {
			_ = e.cli.VolumeRemove(ctx, v.Name, true)
		}
	}
	_ = os.RemoveAll(e.dir)
}

// poll calls cond every 10ms until it holds, limit passes or ctx ends.
func poll(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", what, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// freePort returns a loopback port free at the time of the call.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, nil
}
