package preflight

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cutover/cutover/internal/compose"
	"github.com/cutover/cutover/internal/spec"
)

// Input names what to check: a spec file or compose files, and Dockerfiles.
type Input struct {
	Spec       string
	Compose    []string
	Dockerfile string
	// Env interpolates the compose files.
	Env map[string]string
	// Lint lints a migrations directory (nil: migrations are not linted).
	Lint func(dir, driver string) ([]Finding, error)
}

// Run checks everything in in and returns the findings, sorted. A file that cannot be read or
// parsed is an error, not a finding.
func Run(ctx context.Context, in Input) ([]Finding, error) {
	var out []Finding
	if in.Spec != "" {
		fs, err := specFile(in.Spec, in.Lint)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	if len(in.Compose) > 0 {
		fs, err := composeFiles(ctx, in.Compose, in.Env, in.Dockerfile == "")
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	if in.Dockerfile != "" {
		fs, err := dockerfileAt(in.Dockerfile, filepath.Dir(in.Dockerfile))
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	Sort(out)
	return out, nil
}

func specFile(path string, lint func(dir, driver string) ([]Finding, error)) ([]Finding, error) {
	data, err := readBounded(path, spec.MaxSize)
	if err != nil {
		return nil, err
	}
	s, err := spec.Parse(data, path)
	if err != nil {
		return nil, err
	}
	out := Service(path, string(data), s, YAMLLines(data, spec.Limits))
	if db := s.Database; db != nil && db.Migrations != "" && lint != nil {
		dir := db.Migrations
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(path), dir)
		}
		fs, err := lint(dir, db.Driver)
		if err != nil {
			return nil, fmt.Errorf("lint migrations of %s: %w", path, err)
		}
		out = append(out, fs...)
	}
	return out, nil
}

// composeFiles checks each routed service's spec (at its line in the compose file) and, when
// withBuilds, the Dockerfile of each service built from a context.
func composeFiles(ctx context.Context, files []string, env map[string]string, withBuilds bool) ([]Finding, error) {
	p, err := compose.LoadStack(ctx, files, compose.Options{Env: env})
	if fs := missingVariables(err); fs != nil {
		return fs, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, svc := range p.Services {
		if svc.Spec != nil {
			file := svc.Pos.File
			text, _ := os.ReadFile(file) // read already by LoadStack; only for override comments
			out = append(out, Service(file, string(text), svc.Spec, Lines{"": svc.Pos.Line})...)
		}
		if b := svc.Build; b != nil && withBuilds {
			fs, err := dockerfileAt(filepath.Join(b.Context, b.Dockerfile), b.Context)
			if err != nil {
				return nil, fmt.Errorf("service %s: %w", svc.Name, err)
			}
			out = append(out, fs...)
		}
	}
	return out, nil
}

func dockerfileAt(path, context string) ([]Finding, error) {
	data, err := readBounded(path, MaxDockerfile)
	if err != nil {
		return nil, err
	}
	_, err = os.Stat(filepath.Join(context, ".dockerignore"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("dockerfile %s: %w", path, err)
	}
	return Dockerfile(path, data, err == nil)
}

// readBounded reads a file of at most limit bytes.
func readBounded(path string, limit int) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if fi.Size() > int64(limit) {
		return nil, fmt.Errorf("read %s: %d bytes, at most %d", path, fi.Size(), limit)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

// missingVariables turns the compose files' required variables that have no value
// (${VAR:?message}) into findings, the config gaps of a compose file; nil when err is not
// only that.
func missingVariables(err error) []Finding {
	var es spec.Errors
	if !errors.As(err, &es) {
		return nil
	}
	var out []Finding
	for _, e := range es {
		name, ok := strings.CutPrefix(e.Path, "${")
		if !ok {
			return nil
		}
		name = strings.TrimSuffix(name, "}")
		out = append(out, Finding{Rule: "service/missing-variable", Severity: Error, File: e.File, Line: e.Line, Message: e.Message,
			Fix: "set " + name + " in the environment (or the .env file next to the compose file) before deploying: 'cutover config check -f' lists every one"})
	}
	return out
}
