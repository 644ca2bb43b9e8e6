package process

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/seal"
)

// TestRecordsKeepEnvSealed starts an instance with a secret in its env under a driver without
// a key (as an older cutover did), then opens the same directory with a key: the old record
// is sealed as it is read, a new instance's record is written sealed, both read back whole,
// and no record holds the secret. Logs are 0600 and the directories 0700.
func TestRecordsKeepEnvSealed(t *testing.T) {
	dir := t.TempDir()
	const secret = "tok-record-5f4e3d2c1b"
	env := map[string]string{"API_TOKEN": secret}
	old := newTestDriver(t, dir, testOptions)
	a := appSpec(env)
	a.ID = "web-1-plain"
	if err := old.Start(t.Context(), []runtime.InstanceSpec{a}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(old.recs.path(a.ID)); err != nil || !bytes.Contains(b, []byte(secret)) {
		t.Fatalf("the unsealed record does not hold the secret (%v): the search would find nothing anyway", err)
	}
	old.Close()

	key, err := seal.NewKey(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions
	opts.Sealer = key
	d := newTestDriver(t, dir, opts)
	if _, err := d.List(t.Context()); err != nil {
		t.Fatal(err)
	}
	b := appSpec(env)
	b.ID = "web-1-sealed"
	if err := d.Start(t.Context(), []runtime.InstanceSpec{b}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.ID, b.ID} {
		raw, err := os.ReadFile(d.recs.path(id))
		if err != nil || bytes.Contains(raw, []byte(secret)) {
			t.Errorf("record of %s holds the secret (%v):\n%s", id, err, raw)
		}
		rec, err := d.recs.load(id)
		if err != nil || rec.Spec.Env["API_TOKEN"] != secret {
			t.Errorf("record of %s read back: env %v, %v; want the secret", id, rec.Spec.Env, err)
		}
		if fi, err := os.Stat(d.logPath(id)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("log of %s: %v, mode %v; want 0600", id, err, fi.Mode().Perm())
		}
	}
	for _, sub := range []string{"instances", "logs"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, mode %v; want 0700", sub, err, fi.Mode().Perm())
		}
	}
}
