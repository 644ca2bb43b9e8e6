package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/yamlread/yamltest"
)

func TestAbsMigrations(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cutover.yaml")
	abs := filepath.Join(dir, "migrations")
	cases := []struct{ name, in, want string }{
		{"plain", "name: web\ndatabase:\n  driver: postgres\n  migrations: ./migrations # here\nreplicas: 2\n",
			"name: web\ndatabase:\n  driver: postgres\n  migrations: \"" + abs + "\" # here\nreplicas: 2\n"},
		{"quoted", "database:\n  migrations: 'migrations'\n", "database:\n  migrations: \"" + abs + "\"\n"},
		{"flow", "database: {driver: sqlite, migrations: migrations}\n", "database: {driver: sqlite, migrations: \"" + abs + "\"}\n"},
		{"absolute stays", "database:\n  migrations: /srv/m\n", "database:\n  migrations: /srv/m\n"},
		{"no database", "name: web\n", "name: web\n"},
	}
	for _, c := range cases {
		got, err := absMigrations([]byte(c.in), file)
		if err != nil || string(got) != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.name, got, err, c.want)
		}
	}
	got, _ := absMigrations([]byte("database:\n  migrations: m\n"), "-")
	if !strings.Contains(string(got), "\"/") {
		t.Errorf("standard input: %q, want an absolute path from the working directory", got)
	}
}

// TestAbsMigrationsLeavesBombsToTheDaemon: a spec past the reader's limits is sent as it is
// (the daemon refuses it, naming the limit); reading it here allocates a bounded amount.
func TestAbsMigrationsLeavesBombsToTheDaemon(t *testing.T) {
	doc := []byte("database: {migrations: m}\nx: " + strings.Repeat("[", 60_000) + "\n")
	var got []byte
	var err error
	n := yamltest.Allocated(func() { got, err = absMigrations(doc, "-") })
	if err != nil || string(got) != string(doc) {
		t.Errorf("absMigrations(60,000 nested lists) changed the document or failed: %v", err)
	}
	if n > 64<<20 {
		t.Errorf("absMigrations(60,000 nested lists) allocated %d MB, want at most 64 MB", n>>20)
	}
}
