package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/spec"
)

// Containers runs a job's container: the Docker runtime, with no restart policy.
type Containers interface {
	Start(ctx context.Context, specs []runtime.InstanceSpec) error
	// Wait blocks until the container exits and returns its exit code.
	Wait(ctx context.Context, id string) (int, error)
	Logs(ctx context.Context, id string, follow bool, w io.Writer) error
	Stop(ctx context.Context, id string) error
	Remove(ctx context.Context, id string) error
}

// tailLines is how many lines of a failed job's output its error shows.
const tailLines = 10

// RunJob runs a job's container to completion within timeout (DefaultJobTimeout when zero)
// and removes it. A non-zero exit is an error naming the job, its exit code and the last
// lines of its output with the environment's secret values hidden; a job still running at
// the timeout is stopped and named.
func RunJob(ctx context.Context, c Containers, is runtime.InstanceSpec, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultJobTimeout
	}
	if err := c.Start(ctx, []runtime.InstanceSpec{is}); err != nil {
		return fmt.Errorf("job %s: %w", is.Service, err)
	}
	defer func() { _ = c.Remove(context.WithoutCancel(ctx), is.ID) }()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	code, err := c.Wait(wctx, is.ID)
	if errors.Is(wctx.Err(), context.DeadlineExceeded) {
		_ = c.Stop(context.WithoutCancel(ctx), is.ID)
		return fmt.Errorf("job %s did not finish within %s; stopped%s", is.Service, timeout, tail(ctx, c, is))
	}
	if err != nil {
		return fmt.Errorf("job %s: %w", is.Service, err)
	}
	if code != 0 {
		return fmt.Errorf("job %s exited with code %d%s", is.Service, code, tail(ctx, c, is))
	}
	return nil
}

// tail is the last lines of the job's output, secrets hidden, as the end of an error.
func tail(ctx context.Context, c Containers, is runtime.InstanceSpec) string {
	var buf bytes.Buffer
	if err := c.Logs(context.WithoutCancel(ctx), is.ID, false, &buf); err != nil {
		return ""
	}
	text := buf.String()
	redacted := spec.Run{Env: is.Env}.Redacted()
	for k, v := range is.Env {
		if redacted[k] == spec.Redaction && v != "" {
			text = strings.ReplaceAll(text, v, spec.Redaction)
		}
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > tailLines {
		lines = lines[len(lines)-tailLines:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	return "; last lines of its output:\n  " + strings.Join(lines, "\n  ")
}
