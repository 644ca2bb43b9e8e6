// Package githubactions checks the example workflow: actionlint finds nothing in it, and
// its cutover steps, run as GitHub would run them (bash -eo pipefail, each job with a fresh
// config, values through env), deploy a real image to a staging daemon and promote it to a
// production daemon that requires approvals, both real `cutover serve` processes on loopback.
package githubactions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rhysd/actionlint"

	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
)

// TestWorkflowLints runs actionlint over the workflow.
func TestWorkflowLints(t *testing.T) {
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFile("deploy.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("actionlint: %s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
	}
}

type workflow struct {
	Env  map[string]string `yaml:"env"`
	Jobs map[string]struct {
		Steps []struct {
			Name string            `yaml:"name"`
			Run  string            `yaml:"run"`
			Env  map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// pipeline is the workflow about to run against two daemons.
type pipeline struct {
	t        *testing.T
	wf       workflow
	bin      string // a directory holding the cutover binary, first in PATH
	checkout string // the repository's checkout: cutover.yaml
}

var expression = regexp.MustCompile(`\$\{\{[^}]*\}\}`)

// job runs the steps of job that call cutover or curl (not the ones that install tools) in
// the checkout, with a fresh config file, the workflow's, job's and step's env, each ${{ }}
// replaced from vals; it returns the exit code of the first failing step, and the output.
func (p *pipeline) job(ctx context.Context, name string, vals map[string]string) (int, string) {
	j, ok := p.wf.Jobs[name]
	if !ok {
		p.t.Fatalf("workflow has no job %s", name)
	}
	conf := filepath.Join(p.t.TempDir(), "config.yaml")
	var out bytes.Buffer
	for _, st := range j.Steps {
		if st.Run == "" || strings.HasPrefix(st.Name, "Install") || strings.HasPrefix(st.Name, "Test") {
			continue
		}
		cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", st.Run)
		cmd.Dir, cmd.Stdout, cmd.Stderr = p.checkout, &out, &out
		cmd.Env = p.env(conf, vals, p.wf.Env, st.Env)
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if !asExit(err, &ee) {
				p.t.Fatalf("job %s step %q: %v", name, st.Name, err)
			}
			return ee.ExitCode(), out.String()
		}
	}
	return 0, out.String()
}

// env is the environment of a step: this process's without cutover's own variables, PATH
// with the cutover binary first, GitHub's, then each map with its expressions replaced.
func (p *pipeline) env(conf string, vals map[string]string, maps ...map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CUTOVER_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	env = append(env, "PATH="+p.bin+":"+os.Getenv("PATH"), "CUTOVER_CONFIG="+conf,
		"GITHUB_SHA=0123456789abcdef", "RUNNER_TEMP="+p.t.TempDir())
	for _, m := range maps {
		for k, v := range m {
			v = expression.ReplaceAllStringFunc(v, func(e string) string {
				got, ok := vals[e]
				if !ok {
					p.t.Fatalf("the test gives no value for %s (env %s)", e, k)
				}
				return got
			})
			env = append(env, k+"="+v)
		}
	}
	return env
}

func asExit(err error, target **exec.ExitError) bool { return errors.As(err, target) }

// daemon is a real `cutover serve` process.
type daemon struct {
	state, addr string
}

// serve starts a daemon with args on 127.0.0.1:0 and stops it (SIGINT, its instances with
// it) when the test ends.
func (p *pipeline) serve(args ...string) daemon {
	t := p.t
	state := filepath.Join(t.TempDir(), "state")
	cmd := exec.Command(filepath.Join(p.bin, "cutover"), append([]string{"serve", "--state", state,
		"--listen", "127.0.0.1:0", "--stop-instances"}, args...)...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(90 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("daemon %v did not stop; its log:\n%s", args, log.String())
		}
		owner, _ := filepath.Abs(state)
		_ = dockertest.RemoveContainers(context.Background(), dockertest.Client(t), docker.LabelOwner, owner)
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(state, "api.addr")); err == nil {
			return daemon{state: state, addr: strings.TrimSpace(string(b))}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("daemon %v did not start; its log:\n%s", args, log.String())
	return daemon{}
}

// cli runs cutover with args and env (on top of this process's environment without
// cutover's variables) and returns its exit code and combined output.
func (p *pipeline) cli(env []string, args ...string) (int, string) {
	p.t.Helper()
	cmd := exec.Command(filepath.Join(p.bin, "cutover"), args...)
	cmd.Env = append(p.env(filepath.Join(p.t.TempDir(), "none.yaml"), nil), env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !asExit(err, &ee) {
		p.t.Fatalf("cutover %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// token creates a named token with role on the daemon (with its admin token, from its state).
func (p *pipeline) token(d daemon, name, role string) string {
	p.t.Helper()
	code, out := p.cli([]string{"CUTOVER_STATE=" + d.state}, "token", "create", name, "--role", role, "-o", "json")
	var tok struct{ Token string }
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil || tok.Token == "" {
		p.t.Fatalf("create token %s on %s: exit %d: %s", name, d.state, code, out)
	}
	return tok.Token
}

// as returns the environment that makes the CLI talk to d with token.
func as(d daemon, token string) []string {
	return []string{"CUTOVER_ADDR=" + d.addr, "CUTOVER_TOKEN=" + token}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
