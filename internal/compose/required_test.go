package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/spec"
)

const requiredCompose = `services:
  web:
    image: app:${TAG:?set TAG to the image tag}
    ports: ["${PORT:?}:8000"]
    environment:
      DATABASE_URL: ${DATABASE_URL:?the database, e.g. postgres://db/app}
      TOKEN: ${TOKEN?the API token}
      REGION: ${REGION:-eu}
`

// TestRequiredVariablesAllListed: every ${VAR:?message} (and ${VAR?message}) without a value
// is listed at once, each with its message and file:line, by Load (deploy -f) and LoadStack
// (the stack plan) alike; compose-go alone stops at the first.
func TestRequiredVariablesAllListed(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(requiredCompose), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []string{
		file + ":3:16: ${TAG}: required variable TAG is not set: set TAG to the image tag",
		file + ":4:14: ${PORT}: required variable PORT is not set",
		file + ":6:21: ${DATABASE_URL}: required variable DATABASE_URL is not set: the database, e.g. postgres://db/app",
		file + ":7:14: ${TOKEN}: required variable TOKEN is not set: the API token",
	}
	env := map[string]string{"PORT": ""} // set but empty: ${PORT:?} refuses it too
	loads := map[string]func() error{
		"Load": func() error {
			_, err := Load(context.Background(), []string{file}, nil, Options{Env: env})
			return err
		},
		"LoadStack": func() error {
			_, err := LoadStack(context.Background(), []string{file}, Options{Env: env})
			return err
		},
	}
	for name, load := range loads {
		err := load()
		var es spec.Errors
		if !errors.As(err, &es) || len(es) != len(want) {
			t.Fatalf("%s: %v, want %d spec errors", name, err, len(want))
		}
		for i, w := range want {
			if es[i].Error() != w {
				t.Errorf("%s: error %d = %q, want %q", name, i, es[i].Error(), w)
			}
		}
	}
	// All set (TOKEN may be empty: ${TOKEN?} only needs it set): it loads.
	env = map[string]string{"TAG": "1.2", "PORT": "8080", "DATABASE_URL": "postgres://db/app", "TOKEN": ""}
	p, err := Load(context.Background(), []string{file}, nil, Options{Env: env})
	if err != nil || len(p.Services) != 1 || p.Services[0].Spec.Run.Image != "app:1.2" {
		t.Fatalf("with every variable set: %+v, %v", p, err)
	}
	if strings.Contains(p.Services[0].Spec.Run.Env["DATABASE_URL"], "0") {
		t.Errorf("a placeholder leaked into a loaded value: %v", p.Services[0].Spec.Run.Env)
	}
}
