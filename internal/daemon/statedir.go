package daemon

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cutover/cutover/internal/seal"
	"github.com/cutover/cutover/internal/store"
)

// privateStateDir makes dir, which exists, private to the daemon's user (0700): the logs in
// it hold what apps print, secrets included. A directory another user owns and others may
// enter is refused rather than changed.
func privateStateDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	owner := -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		owner = int(st.Uid)
	}
	chmod, err := stateDirAction(dir, fi.Mode().Perm(), owner, os.Geteuid())
	if err != nil || !chmod {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("state directory %s: make it private (0700): %w", dir, err)
	}
	return nil
}

// stateDirAction decides what to do with a state directory of mode perm owned by owner when
// the daemon runs as self: nothing when group and others have no access, chmod 0700 when it
// is the daemon's own, else a refusal naming the fix.
func stateDirAction(dir string, perm fs.FileMode, owner, self int) (chmod bool, err error) {
	switch {
	case perm&0o077 == 0:
		return false, nil
	case owner == self:
		return true, nil
	default:
		return false, fmt.Errorf("state directory %s is mode %04o and owned by uid %d, not by this daemon's uid %d: "+
			"others could read its logs and records; make it 0700 and owned by uid %d, or choose another --state",
			dir, perm, owner, self, self)
	}
}

// openState opens the state file of dir with the specs sealed by the state directory's key,
// created on first start, and returns the key for the other records that hold secrets.
func openState(ctx context.Context, dir string) (*store.Store, *seal.Key, error) {
	key, err := seal.LoadOrCreate(filepath.Join(dir, seal.KeyFile))
	if err != nil {
		return nil, nil, err
	}
	st, err := store.OpenSealed(ctx, filepath.Join(dir, "state.db"), key)
	if err != nil {
		return nil, nil, err
	}
	return st, key, nil
}
