package handoff

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/atomicfile"
)

// Files a daemon keeps in its state directory for hand-offs.
const (
	// PIDFile holds the pid of the daemon that serves, written once it serves.
	PIDFile = "cutover.pid"
	// StatusFile holds the Status of the last hand-off, written by the daemon that was asked.
	StatusFile = "handoff.json"
)

// Status is the outcome of a hand-off.
type Status struct {
	OldPID     int       `json:"old_pid"`
	NewPID     int       `json:"new_pid,omitempty"`
	OK         bool      `json:"ok"`
	Version    string    `json:"version,omitempty"`     // the successor's
	OldVersion string    `json:"old_version,omitempty"` // the old daemon's
	Error      string    `json:"error,omitempty"`
	At         time.Time `json:"at"`
}

// WriteStatus replaces dir's status file atomically.
func WriteStatus(dir string, s Status) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode hand-off status: %w", err)
	}
	return atomicfile.Write(filepath.Join(dir, StatusFile), append(b, '\n'), 0o600)
}

// ReadStatus reads dir's status file; ok is false when there is none.
func ReadStatus(dir string) (s Status, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, StatusFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Status{}, false, nil
	}
	if err != nil {
		return Status{}, false, fmt.Errorf("read hand-off status: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return Status{}, false, fmt.Errorf("read hand-off status %s: %w", filepath.Join(dir, StatusFile), err)
	}
	return s, true, nil
}

// WritePIDFile records pid as the serving daemon's.
func WritePIDFile(dir string, pid int) error {
	return atomicfile.Write(filepath.Join(dir, PIDFile), []byte(strconv.Itoa(pid)+"\n"), 0o600)
}

// ReadPIDFile returns the serving daemon's pid; the error wraps fs.ErrNotExist when no daemon
// recorded one.
func ReadPIDFile(dir string) (int, error) {
	path := filepath.Join(dir, PIDFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: %q is not a pid", path, strings.TrimSpace(string(b)))
	}
	return pid, nil
}

// RemovePIDFile removes dir's pid file if it still names pid.
func RemovePIDFile(dir string, pid int) {
	if got, err := ReadPIDFile(dir); err == nil && got == pid {
		_ = os.Remove(filepath.Join(dir, PIDFile))
	}
}
