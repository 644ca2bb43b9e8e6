package spec

import (
	"errors"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/yamlread/yamltest"
)

// redefined names each anchor twice: an alias is the definition before it (YAML), so the
// pre_deploy hook runs ./web with STAGE=reviewed, whatever the smoke hook redefines later.
const redefined = `name: web
run:
  command: &cmd ./web
  env: &env {STAGE: reviewed}
route:
  listen: ":8080"
hooks:
  pre_deploy: {command: *cmd, env: *env}
  smoke: {command: &cmd ./other, env: &env {STAGE: swapped}}
`

// TestParseAliasNamesTheAnchorBeforeIt: what runs is what a reviewer reads (finding 4).
func TestParseAliasNamesTheAnchorBeforeIt(t *testing.T) {
	overridden, err := Override([]byte(redefined), []string{"replicas=2"}, nil)
	if err != nil {
		t.Fatalf("Override: %v", err)
	}
	for name, doc := range map[string][]byte{"as written": []byte(redefined), "overridden": overridden} {
		s, err := Parse(doc, "")
		if err != nil {
			t.Fatalf("Parse(%s): %v", name, err)
		}
		if h := s.Hooks.PreDeploy; h.Command != "./web" || h.Env["STAGE"] != "reviewed" {
			t.Errorf("Parse(%s): pre_deploy = %+v, want command ./web with STAGE=reviewed (the anchors before it)", name, h)
		}
	}
}

// TestReadRefusesBombsInBoundedMemory: Parse and Override (deploy --set) refuse the review's
// reproductions with the position and the limit, allocating a bounded amount.
func TestReadRefusesBombsInBoundedMemory(t *testing.T) {
	const bound = 48 << 20
	for _, tc := range []struct {
		name, doc, msg string
	}{
		{"anchor redefinition bomb", base + yamltest.RedefinitionBomb("", 7), "more than 40000 values through aliases"},
		{"deep nesting", base + "x: " + strings.Repeat("[", 20_000), "nested too deeply: more than 32 levels"},
		{"huge scalars", base + "x: &x " + strings.Repeat("x", 30_000) + "\ny: [*x, *x, *x, *x, *x, *x, *x, *x, *x]\n", "more than 262144 bytes of text through aliases"},
	} {
		for _, op := range []struct {
			name string
			run  func([]byte) error
		}{
			{"Parse", func(doc []byte) error { _, err := Parse(doc, "web.yaml"); return err }},
			{"Override", func(doc []byte) error { _, err := Override(doc, []string{"replicas=2"}, nil); return err }},
		} {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
				var err error
				n := yamltest.Allocated(func() { err = op.run([]byte(tc.doc)) })
				var errs Errors
				if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Line == 0 || !strings.Contains(errs[0].Message, tc.msg) {
					t.Fatalf("%s(%s) = %v, want one positioned error containing %q", op.name, tc.name, err, tc.msg)
				}
				t.Logf("%d bytes: %v; %.1f MB allocated", len(tc.doc), err, float64(n)/(1<<20))
				if n > bound {
					t.Errorf("%s(%s) allocated %d MB, want at most %d MB", op.name, tc.name, n>>20, bound>>20)
				}
			})
		}
	}
}
