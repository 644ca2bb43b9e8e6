package daemon

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSecretsNotAtRest deploys a service with a secret env value twice into a state
// directory that exists with mode 0755, then reads every file under it (the state file, its
// WAL, the instance records, the logs, the key) while the daemon runs and after it stopped:
// none holds the secret's bytes. The directory is made 0700; the state file, the key, the
// records and the logs are 0600.
func TestSecretsNotAtRest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // past the umask
		t.Fatal(err)
	}
	h := startWith(t, Options{StateDir: dir})
	const secret = "tok-at-rest-7e6d5c4b3a29"
	s := appSpec{Name: "web", Listen: freeAddr(t), Version: "v1", Env: map[string]string{"API_TOKEN": secret}}
	for _, v := range []string{"v1", "v2"} {
		s.Version = v
		if got := h.wait(h.deploy(s).ID, 30*time.Second); got.Status != "succeeded" {
			t.Fatalf("deploy %s: %s %s", v, got.Status, got.Reason)
		}
	}
	checkNoSecretAtRest(t, dir, secret, "state.db", "state.db-wal", "run/instances/", "run/logs/")
	checkPrivate(t, dir)
	// Stopped, with its instances ended and their records removed, the logs stay.
	h.stop()
	checkNoSecretAtRest(t, dir, secret, "state.db", "run/logs/")
}

// checkPrivate checks the modes: the state directory 0700; the state file, the key, the
// instance records and the logs 0600.
func checkPrivate(t *testing.T, dir string) {
	t.Helper()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state directory: %v, mode %v; want 0700", err, fi.Mode().Perm())
	}
	private := []string{"state.db", "seal.key"}
	for _, pattern := range []string{"run/instances/*.json", "run/logs/*.log"} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		if len(m) == 0 {
			t.Errorf("no file matches %s: the mode check would check nothing", pattern)
		}
		for _, p := range m {
			rel, _ := filepath.Rel(dir, p)
			private = append(private, rel)
		}
	}
	for _, name := range private {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", name, err, fi.Mode().Perm())
		}
	}
}

// checkNoSecretAtRest fails for each file under dir that holds secret, and unless it
// searched a file whose path (relative to dir) starts with each of want.
func checkNoSecretAtRest(t *testing.T, dir, secret string, want ...string) {
	t.Helper()
	var searched []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		searched = append(searched, rel)
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the secret value", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !slices.ContainsFunc(searched, func(p string) bool { return strings.HasPrefix(p, w) }) {
			t.Errorf("searched %v: no %s", searched, w)
		}
	}
}

func TestStateDirAction(t *testing.T) {
	for _, c := range []struct {
		name        string
		perm        fs.FileMode
		owner, self int
		chmod, fail bool
	}{
		{"private", 0o700, 1000, 1000, false, false},
		{"private, another owner", 0o700, 0, 1000, false, false},
		{"open, ours", 0o755, 1000, 1000, true, false},
		{"group-readable, ours", 0o750, 1000, 1000, true, false},
		{"open, another owner", 0o755, 0, 1000, false, true},
	} {
		chmod, err := stateDirAction("/s", c.perm, c.owner, c.self)
		if chmod != c.chmod || (err != nil) != c.fail {
			t.Errorf("%s: chmod %v, error %v; want chmod %v, error %v", c.name, chmod, err, c.chmod, c.fail)
		}
	}
}
