// Package trafficpause keeps which services' traffic is paused (`cutover pause-traffic`) in
// the state directory, one small file per service written whole, so that a restart, a
// hand-off or a kill -9 keeps holding their requests until `cutover resume-traffic`. It does
// not hold requests itself: the proxy does (proxy.Pause).
package trafficpause

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/atomicfile"
)

// Pause is one paused service's settings.
type Pause struct {
	Service string        `json:"service"`
	Timeout time.Duration `json:"timeout"`
	Since   time.Time     `json:"since"`
}

// Dir is the directory of the paused services' files.
type Dir struct{ path string }

// Open returns the directory at path (created on the first Set).
func Open(path string) Dir { return Dir{path: path} }

// Set records p, replacing the service's earlier pause.
func (d Dir) Set(p Pause) error {
	if err := checkName(p.Service); err != nil {
		return err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("pause %s: %w", p.Service, err)
	}
	if err := os.MkdirAll(d.path, 0o700); err != nil {
		return fmt.Errorf("pause %s: %w", p.Service, err)
	}
	if err := atomicfile.Write(d.file(p.Service), b, 0o600); err != nil {
		return fmt.Errorf("pause %s: %w", p.Service, err)
	}
	return nil
}

// Clear forgets the service's pause; no error when it had none.
func (d Dir) Clear(service string) error {
	if err := checkName(service); err != nil {
		return err
	}
	if err := os.Remove(d.file(service)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("resume %s: %w", service, err)
	}
	return nil
}

// All returns every recorded pause; a file that cannot be read is skipped and named in err.
func (d Dir) All() ([]Pause, error) {
	entries, err := os.ReadDir(d.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read paused services: %w", err)
	}
	var out []Pause
	var errs []error
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d.path, e.Name()))
		var p Pause
		if err == nil {
			err = json.Unmarshal(b, &p)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("paused service file %s: %w", e.Name(), err))
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

func (d Dir) file(service string) string { return filepath.Join(d.path, service+".json") }

// checkName refuses a service name that is not a plain file name.
func checkName(s string) error {
	if s == "" || len(s) > 253 || strings.ContainsAny(s, "/\\\x00") || s == "." || s == ".." {
		return fmt.Errorf("service name %q is not valid", s)
	}
	return nil
}
