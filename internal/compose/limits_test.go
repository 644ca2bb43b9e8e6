package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/yamlread/yamltest"
)

// bombFile writes a compose file that is valid but for doc appended to it.
func bombFile(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "compose.yaml")
	body := "services:\n  web:\n    image: web:1\n    ports: [\"8080:8080\"]\n" + doc
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadRefusesBombs: the reader's limits run over a compose file's bytes before
// compose-go parses them, so a bomb is refused with its file, position and limit, in
// bounded memory.
func TestLoadRefusesBombs(t *testing.T) {
	const bound = 64 << 20
	for _, tc := range []struct {
		name, doc, msg string
	}{
		{"anchor redefinition bomb", yamltest.RedefinitionBomb("x-bomb", 8), "document expands to more than 100000 values through aliases"},
		{"bomb in x-cutover", "    x-cutover:\n      route: {hosts: &h [a, a, a, a, a, a, a, a, a, a]}\n      probes: &p {x: [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]}\n      hooks: &q {x: [*p, *p, *p, *p, *p, *p, *p, *p, *p, *p]}\n      strategy: &r {x: [*q, *q, *q, *q, *q, *q, *q, *q, *q, *q]}\n      stop_grace: &s {x: [*r, *r, *r, *r, *r, *r, *r, *r, *r, *r]}\n", "values through aliases"},
		{"deep nesting", "x-deep: " + strings.Repeat("[", 100_000), "nested too deeply: more than 64 levels"},
		{"huge file", "x-big: " + strings.Repeat("x", 2<<20) + "\n", "the limit is 262144"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := bombFile(t, tc.doc)
			var err error
			n := yamltest.Allocated(func() { _, err = Load(context.Background(), []string{path}, nil, Options{}) })
			var fe *spec.FieldError
			if !errors.As(err, &fe) || fe.File != path || !strings.Contains(fe.Message, tc.msg) {
				t.Fatalf("Load(%s) = %v, want a field error of %s containing %q", tc.name, err, path, tc.msg)
			}
			if fe.Line == 0 && !strings.Contains(tc.msg, "limit is") {
				t.Errorf("Load(%s) = %v, want a line", tc.name, err)
			}
			t.Logf("%v; %.1f MB allocated", err, float64(n)/(1<<20))
			if n > bound {
				t.Errorf("Load(%s) allocated %d MB, want at most %d MB", tc.name, n>>20, bound>>20)
			}
		})
	}
}
