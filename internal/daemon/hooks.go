package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
)

// RunHook implements rollout.HookRunner: the hook runs as a command with the daemon's env,
// the hook's env and the deployment's facts (CUTOVER_SERVICE, CUTOVER_REVISION,
// CUTOVER_DEPLOYMENT, TARGET_URL: one ready instance of the new revision, PREVIEW_URL) and
// the API's CUTOVER_ADDR and CUTOVER_TOKEN, so that it can run cutover commands.
func (d *Daemon) RunHook(ctx context.Context, dep *rollout.Deployment, name string, h spec.Hook) error {
	ctx, cancel := context.WithTimeout(ctx, h.Timeout.D())
	defer cancel()
	cmd := exec.CommandContext(ctx, h.Command, h.Args...)
	cmd.Dir = dep.Spec.Run.Dir
	cmd.Env = append(os.Environ(),
		"CUTOVER_SERVICE="+dep.Service,
		"CUTOVER_REVISION="+strconv.Itoa(dep.State.To),
		"CUTOVER_DEPLOYMENT="+strconv.FormatInt(dep.ID, 10),
		"CUTOVER_HOOK="+name,
		"CUTOVER_ADDR="+d.apiURL(),      // so that the hook can run cutover commands, such as
		"CUTOVER_TOKEN="+d.Token(),      // `cutover flags enable X` in post_promote
		"CUTOVER_CA="+d.opts.APITLSCert, // empty without TLS
	)
	if u := d.targetURL(dep.Service, dep.State.To); u != "" {
		cmd.Env = append(cmd.Env, "TARGET_URL="+u)
	}
	if u := previewURL(dep.Spec); u != "" {
		cmd.Env = append(cmd.Env, "PREVIEW_URL="+u)
	}
	for k, v := range h.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	start := time.Now()
	err := cmd.Run()
	d.logger.Info("hook finished", "service", dep.Service, "deployment_id", dep.ID, "hook", name, "duration", time.Since(start), "error", err)
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s", h.Timeout.D())
	}
	// The output becomes the deployment's reason: shown by the API, CLI, events and logs.
	if tail := lastLines(redactOutput(dep.Spec, out.String()), 5, 500); tail != "" {
		return fmt.Errorf("%w: %s", err, tail)
	}
	return err
}

// targetURL is the URL of one serving instance of the revision, or "".
func (d *Daemon) targetURL(service string, rev int) string {
	d.fleet.mu.Lock()
	defer d.fleet.mu.Unlock()
	for _, in := range d.fleet.service(service).sortedInstances() {
		if in.rec.Revision == rev && in.serving() {
			return "http://" + in.status.Addr
		}
	}
	return ""
}

func previewURL(s spec.Service) string {
	if bg := s.Strategy.BlueGreen; bg != nil && bg.PreviewListen != "" {
		return "http://" + dialable(bg.PreviewListen)
	}
	return ""
}

// dialable turns a listen address into one a local client can dial (":8080" → "127.0.0.1:8080").
func dialable(listen string) string {
	if strings.HasPrefix(listen, ":") {
		return "127.0.0.1" + listen
	}
	if strings.HasPrefix(listen, "0.0.0.0:") {
		return "127.0.0.1" + strings.TrimPrefix(listen, "0.0.0.0")
	}
	return listen
}

// lastLines returns at most n trailing lines of s, at most max bytes, on one line.
func lastLines(s string, n, max int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := strings.Join(lines, " | ")
	if len(out) > max {
		out = "…" + out[len(out)-max:]
	}
	return out
}
