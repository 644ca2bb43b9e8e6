package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
)

// Primary SQLite result codes that mean the file's storage refused a write, not that the
// statement was wrong: https://sqlite.org/rescode.html.
const (
	codePerm     = 3
	codeReadOnly = 8
	codeIOErr    = 10
	codeFull     = 13
	codeCantOpen = 14
)

// WriteError is returned (wrapped) by every write when the state file's storage refused
// it: disk full, a read-only or failing file system, lost permissions. Nothing of the
// refused write is kept (it ran in a transaction), and reads keep working. A later write
// succeeds once the storage recovers; nothing needs reopening.
type WriteError struct {
	// Path is the state file.
	Path string
	// Cause is the operating system's error for a write next to the state file, found when
	// the write failed (ENOSPC, EROFS, EACCES…); nil when such a write succeeded by then.
	Cause error
	// Err is the database's error.
	Err error
}

// Error names the file and the OS error: "state file /var/lib/cutover/state.db cannot be
// written: no space left on device (database or disk is full (13))".
func (e *WriteError) Error() string {
	if e.Cause == nil {
		return fmt.Sprintf("state file %s cannot be written: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("state file %s cannot be written: %v (%v)", e.Path, e.Cause, e.Err)
}

// Unwrap returns the database's error and the OS error.
func (e *WriteError) Unwrap() []error { return []error{e.Err, e.Cause} }

// Unavailable marks the error as a condition of the host, not of the request: the control
// API answers it with 503.
func (e *WriteError) Unavailable() bool { return true }

// fault turns err into a *WriteError (kept wrapped with its operation) when the storage
// refused a write; other errors are returned as they are.
func (s *Store) fault(err error) error {
	if err == nil || !storageRefused(err) {
		return err
	}
	var we *WriteError
	if errors.As(err, &we) {
		return err
	}
	we = &WriteError{Path: s.path, Cause: probeWrite(filepath.Dir(s.path)), Err: err}
	return we
}

// storageRefused reports whether err is SQLite's word for storage that refused a write.
func storageRefused(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case codePerm, codeReadOnly, codeIOErr, codeFull, codeCantOpen:
		return true
	}
	return false
}

// probeBytes is how much probeWrite writes: a few pages, as a small transaction would.
const probeBytes = 16 << 10

// probeWrite writes, syncs and removes a small file in dir, and returns the OS error that
// stopped it, if any: SQLite's own error names no errno.
func probeWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".cutover-write-probe-*")
	if err != nil {
		return unwrapPath(err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, probeBytes))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return unwrapPath(err)
}

// unwrapPath keeps the errno of a *PathError: the caller names the file already.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
