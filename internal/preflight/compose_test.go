package preflight

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestComposeMissingVariables: a compose file's ${VAR:?message} without a value is a config
// gap, one error finding per variable at its line, with the file's message; with the
// variables set, there is none.
func TestComposeMissingVariables(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	doc := "services:\n  web:\n    image: app:${TAG:?the release tag}\n    ports: [\"8080:8000\"]\n" +
		"    environment:\n      DATABASE_URL: ${DATABASE_URL:?the database URL}\n"
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	fs, err := Run(context.Background(), Input{Compose: []string{file}, Env: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Rule+" "+string(f.Severity)+" "+f.Message)
		if f.File != file || f.Fix == "" {
			t.Errorf("finding %+v: want file %s and a fix", f, file)
		}
	}
	want := []string{
		"service/missing-variable error required variable TAG is not set: the release tag",
		"service/missing-variable error required variable DATABASE_URL is not set: the database URL",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("findings (-got +want):\n%s", diff)
	}
	fs, err = Run(context.Background(), Input{Compose: []string{file}, Env: map[string]string{"TAG": "1", "DATABASE_URL": "postgres://db/app"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Rule == "service/missing-variable" {
			t.Errorf("with the variables set: %+v", f)
		}
	}
}
