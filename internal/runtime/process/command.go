package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/runtime"
)

// commandError says why a command cannot run, in exec's words.
type commandError struct {
	name   string
	reason string
	err    error
}

func (e *commandError) Error() string { return fmt.Sprintf("exec: %q: %s", e.name, e.reason) }
func (e *commandError) Unwrap() error { return e.err }

// Check reports whether spec could start: its directory exists and its command resolves
// (like exec.LookPath; a command with a slash is relative to spec.Dir). It starts nothing.
func (d *Driver) Check(ctx context.Context, spec runtime.InstanceSpec) error {
	if _, err := resolveCommand(spec); err != nil {
		return fmt.Errorf("check %s: %w", spec.ID, err)
	}
	return nil
}

// resolveCommand returns the absolute path spec.Command runs, checking spec.Dir on the way.
func resolveCommand(spec runtime.InstanceSpec) (string, error) {
	if spec.Command == "" {
		return "", errors.New("command is empty")
	}
	dir := spec.Dir
	if dir != "" {
		fi, err := os.Stat(dir)
		if err != nil {
			return "", fmt.Errorf("dir: %w", err)
		}
		if !fi.IsDir() {
			return "", fmt.Errorf("dir %s: not a directory", dir)
		}
	}
	if !strings.Contains(spec.Command, "/") {
		path, err := exec.LookPath(spec.Command)
		if err != nil {
			return "", err
		}
		return filepath.Abs(path)
	}
	path := spec.Command
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", spec.Command, err)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", &commandError{spec.Command, "executable file not found", exec.ErrNotFound}
	case err != nil:
		return "", &commandError{spec.Command, err.Error(), err}
	case fi.IsDir() || fi.Mode().Perm()&0o111 == 0:
		return "", &commandError{spec.Command, "permission denied", fs.ErrPermission}
	}
	return path, nil
}

// environ is the instance's environment: spec.Env, PORT, and the daemon's PATH and HOME
// unless spec.Env sets them. Sorted, so records and tests are stable.
func environ(env map[string]string, port int) []string {
	all := make(map[string]string, len(env)+3)
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			all[k] = v
		}
	}
	for k, v := range env {
		all[k] = v
	}
	all["PORT"] = strconv.Itoa(port)
	out := make([]string, 0, len(all))
	for k, v := range all {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
