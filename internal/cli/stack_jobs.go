package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cutover/cutover/internal/atomicfile"
	"github.com/cutover/cutover/internal/stack"
)

// A job that completed successfully is recorded in the state directory, under
// stack/PROJECT/jobs/NAME, with the fingerprint of what it ran (image or build content,
// command, environment, mounts, networks). A later deploy of the same stack leaves a job
// with that fingerprint alone, as compose leaves an unchanged service: the job runs again
// only when its definition changed, after a failed run, or after `down --volumes` removed
// the data it prepared.

// jobsDir is where a project's completed jobs are recorded.
func (a *app) jobsDir(project string) (string, error) {
	dir, err := filepath.Abs(a.stateDir)
	if err != nil {
		return "", err
	}
	return filepath.Join(stackOwner(dir, project), "jobs"), nil
}

// completedJobs is the fingerprint each job of the project last completed with; none when
// nothing was recorded (or the state directory cannot be read).
func (a *app) completedJobs(project string) map[string]string {
	out := map[string]string{}
	dir, err := a.jobsDir(project)
	if err != nil {
		return out
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil && len(b) <= 64 {
			out[e.Name()] = strings.TrimSpace(string(b))
		}
	}
	return out
}

// recordJob notes that the job s completed with its current definition.
func (a *app) recordJob(project string, s *stack.Service) error {
	dir, err := a.jobsDir(project)
	if err != nil {
		return fmt.Errorf("record job %s: %w", s.Name, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("record job %s: %w", s.Name, err)
	}
	return atomicfile.Write(filepath.Join(dir, s.Name), []byte(stack.Fingerprint(s)+"\n"), 0o600)
}

// forgetJob removes the record of a job, so that the next deploy runs it.
func (a *app) forgetJob(project, name string) error {
	dir, err := a.jobsDir(project)
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("forget job %s: %w", name, err)
	}
	return nil
}

// forgetJobs removes the records of every job of the project.
func (a *app) forgetJobs(project string) error {
	dir, err := a.jobsDir(project)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("forget the jobs of %s: %w", project, err)
	}
	return nil
}
