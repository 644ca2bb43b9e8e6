package process

import (
	"github.com/cutover/cutover/internal/atomicfile"

	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/runtime"
)

// records keeps one record per instance in dir/instances, sealing env values with sealer
// (when not nil).
type records struct {
	dir    string
	sealer Sealer
	logger *slog.Logger
}

// record is what survives the daemon: instances/<id>.json.
type record struct {
	// Spec is the instance's spec; in the file its Env is empty when SealedEnv holds it.
	Spec runtime.InstanceSpec `json:"spec"`
	// SealedEnv is Spec.Env as JSON, sealed by Options.Sealer (env values hold secrets).
	SealedEnv []byte `json:"sealed_env,omitempty"`
	// PID and PGID are the current process and its group; 0 when there is none.
	PID  int `json:"pid"`
	PGID int `json:"pgid"`
	Port int `json:"port"`
	// StartTicks is field 22 of /proc/<pid>/stat, telling the process from a later one that
	// reuses its pid.
	StartTicks uint64    `json:"start_ticks"`
	StartedAt  time.Time `json:"started_at"`
	Restarts   int       `json:"restarts"`
	// Spawn is the mark of the last process started (or about to be): written before the
	// fork, it finds a process whose pid the daemon died before recording.
	Spawn string `json:"spawn,omitempty"`
	// Stopped is set by Stop: the instance must not be restarted.
	Stopped  bool   `json:"stopped"`
	ExitCode int    `json:"exit_code"`
	Message  string `json:"message,omitempty"`
}

func (rs *records) path(id string) string {
	return filepath.Join(rs.dir, "instances", id+".json")
}

// load reads id's record; the error wraps fs.ErrNotExist when there is none.
func (rs *records) load(id string) (record, error) {
	var r record
	b, err := os.ReadFile(rs.path(id))
	if err != nil {
		return r, fmt.Errorf("read record %s: %w", id, err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("read record %s: %w", id, err)
	}
	if len(r.SealedEnv) > 0 {
		if rs.sealer == nil {
			return r, fmt.Errorf("read record %s: its env is sealed and the driver has no key", id)
		}
		plain, err := rs.sealer.Open(envLabel, r.SealedEnv)
		if err != nil {
			return r, fmt.Errorf("read record %s: %w", id, err)
		}
		if err := json.Unmarshal(plain, &r.Spec.Env); err != nil {
			return r, fmt.Errorf("read record %s: sealed env: %w", id, err)
		}
		r.SealedEnv = nil
	} else if rs.sealer != nil && len(r.Spec.Env) > 0 {
		// Written in plain text by an older cutover: sealed now, so it is read that way once.
		// A disk that refuses the write leaves it for the record's next write.
		if err := rs.save(r); err != nil {
			rs.logger.Warn("instance record not sealed", "instance", id, "error", err)
		}
	}
	return r, nil
}

// envLabel binds a sealed env to the instance records.
const envLabel = "process/env"

// save writes r atomically: temp file, fsync, rename, fsync of the directory. The
// env is sealed when the driver has a Sealer.
func (rs *records) save(r record) error { return rs.write(r, atomicfile.Write) }

// saveBeforeFork writes r without waiting for the disk: a kill -9 right after finds it, and
// the save after the fork (synced) makes the instance's record durable.
func (rs *records) saveBeforeFork(r record) error { return rs.write(r, atomicfile.WriteUnsynced) }

func (rs *records) write(r record, write func(string, []byte, os.FileMode) error) error {
	if rs.sealer != nil && len(r.Spec.Env) > 0 {
		plain, err := json.Marshal(r.Spec.Env)
		if err != nil {
			return fmt.Errorf("write record %s: %w", r.Spec.ID, err)
		}
		r.SealedEnv, r.Spec.Env = rs.sealer.Seal(envLabel, plain), nil
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("write record %s: %w", r.Spec.ID, err)
	}
	dir := filepath.Join(rs.dir, "instances")
	if err := write(filepath.Join(dir, r.Spec.ID+".json"), b, 0o600); err != nil {
		return fmt.Errorf("write record %s: %w", r.Spec.ID, err)
	}
	return nil
}

// remove deletes id's record; a missing record is not an error.
func (rs *records) remove(id string) error {
	if err := os.Remove(rs.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete record %s: %w", id, err)
	}
	return nil
}

// ids lists the IDs that have a record, sorted.
func (rs *records) ids() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(rs.dir, "instances"))
	if err != nil {
		return nil, fmt.Errorf("list records: %w", err)
	}
	var ids []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		ids = append(ids, strings.TrimSuffix(name, ".json"))
	}
	sort.Strings(ids)
	return ids, nil
}

// validID reports whether id can name files in dir.
func validID(id string) error {
	switch {
	case id == "":
		return errors.New("instance id is empty")
	case id == "." || id == ".." || strings.ContainsAny(id, "/\\\x00") || strings.HasPrefix(id, "."):
		return fmt.Errorf("instance id %q is not a valid file name", id)
	}
	return nil
}
