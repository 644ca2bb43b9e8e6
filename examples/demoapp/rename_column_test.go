package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/testbin"
)

// TestRenameColumnExample checks the rename-column example: every release's spec is valid
// and binds its migrations, every migration passes lint with no finding, and a migration
// that two releases carry is the same file in both (the runner refuses an applied migration
// whose file changed). The exercise itself runs in internal/daemon's TestMigrateRenameColumn.
func TestRenameColumnExample(t *testing.T) {
	dir := filepath.Join("..", "rename-column")
	seen := map[string][]byte{}
	wantFiles := []int{1, 3, 5}
	for n := range 3 {
		rel := filepath.Join(dir, fmt.Sprintf("release-%d", n))
		path := filepath.Join(rel, "cutover.yaml")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(data, path)
		if err != nil {
			t.Fatalf("spec.Parse(%s): %v", path, err)
		}
		if s.Database == nil || s.Database.Driver != spec.DriverPostgres || s.Database.Contract != spec.ContractAfterPromote {
			t.Errorf("%s: database = %+v, want postgres, contract after-promote", path, s.Database)
		}
		if got, want := s.Run.Env["DEMO_DB_SCHEMA"], fmt.Sprintf("v%d", n); got != want {
			t.Errorf("%s: DEMO_DB_SCHEMA = %q, want %q", path, got, want)
		}
		migs, err := migrate.Load(filepath.Join(rel, "migrations"))
		if err != nil {
			t.Fatalf("load %s migrations: %v", rel, err)
		}
		if len(migs) != wantFiles[n] {
			t.Errorf("%s: %d migrations, want %d", rel, len(migs), wantFiles[n])
		}
		for _, m := range migs {
			b, err := os.ReadFile(m.File)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(m.File)
			if prev, ok := seen[name]; ok && !bytes.Equal(prev, b) {
				t.Errorf("%s differs from the same migration in an earlier release", m.File)
			}
			seen[name] = b
		}
	}
	// Release 2 holds every migration (the loop checked that the earlier copies are the
	// same). The cutover binary lints: under -race the parser's WebAssembly takes over a
	// minute to compile in the test process, and the binary is built without -race.
	last := filepath.Join(dir, "release-2", "migrations")
	lint := exec.Command(testbin.Cutover(t), "migrate", "lint", last)
	if out, err := lint.CombinedOutput(); err != nil || !strings.Contains(string(out), " 0 finding(s)") {
		t.Errorf("cutover migrate lint %s: %v\n%s", last, err, out)
	}
}
