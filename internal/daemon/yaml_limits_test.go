package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/flags"
	"github.com/cutover/cutover/internal/yamlread/yamltest"
)

// doublingVariants writes variants whose last one doubles a 100-byte string levels times
// through anchors: the shape of the review's 1.1 KB import that stored a 3.4 MB flag.
func doublingVariants(indent string, levels int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%ssmall: {}\n%sv0: &v0 {s: %s}\n", indent, indent, strings.Repeat("x", 100))
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "%sv%d: &v%d {a: *v%d, b: *v%d}\n", indent, i, i, i-1, i-1)
	}
	return b.String()
}

// specBomb is the review's reproduction of finding 4 as a deploy: nine aliases a level to
// the level before, every anchor then redefined to a scalar.
func specBomb(listen string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: web\nrun:\n  command: ./web\nroute:\n  listen: %q\n", listen)
	b.WriteString("l0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 8; i++ {
		fmt.Fprintf(&b, "l%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), ", "))
	}
	b.WriteString("redefined: [&a0 x, &a1 x, &a2 x, &a3 x, &a4 x, &a5 x, &a6 x, &a7 x]\n")
	return b.String()
}

// TestYAMLBombsAreRefusedOverTheAPI sends the review's reproductions of findings 4 and 5 to
// a running daemon: each is refused with the file, line, column and limit, nothing is
// stored, and the daemon's heap grows by a bounded amount while it answers.
func TestYAMLBombsAreRefusedOverTheAPI(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const bound = 64 << 20
	for _, tc := range []struct {
		name, file, msg string
		call            func() error
	}{
		{"deploy --set with an anchor redefinition bomb", "web.yaml", "values through aliases", func() error {
			_, err := h.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: specBomb(freeAddr(t)), SpecFile: "web.yaml", Set: []string{"replicas=2"}})
			return err
		}},
		{"deploy of the bomb", "web.yaml", "values through aliases", func() error {
			_, err := h.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: specBomb(freeAddr(t)), SpecFile: "web.yaml"})
			return err
		}},
		{"one flag's YAML", "f.yaml", "bytes of text through aliases", func() error {
			doc := "type: object\ndefault_variant: small\nvariants:\n" + doublingVariants("  ", 12)
			_, err := h.client.PutFlagYAML(ctx, "t", "f", []byte(doc), "f.yaml")
			return err
		}},
		{"flags import", "flags.yaml", "values through aliases", func() error {
			doc := "flags:\n  - key: f\n    type: object\n    default_variant: small\n    variants:\n" + doublingVariants("      ", 15)
			_, err := h.client.ImportFlags(ctx, "t", []byte(doc), "flags.yaml", flags.ImportOptions{})
			return err
		}},
		{"flags import under the limits, over the flag cap", "flags.yaml", "bytes as JSON; the limit is 65536", func() error {
			doc := "flags:\n  - key: f\n    type: object\n    default_variant: small\n    variants:\n" + doublingVariants("      ", 10)
			_, err := h.client.ImportFlags(ctx, "t", []byte(doc), "flags.yaml", flags.ImportOptions{})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := yamltest.Allocated(func() { err = tc.call() })
			var ve *api.ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Line == 0 || !strings.Contains(ve.Fields[0].Message, tc.msg) {
				t.Fatalf("%s: %v, want one positioned field error containing %q", tc.name, err, tc.msg)
			}
			if !strings.Contains(err.Error(), tc.file) {
				t.Errorf("%s: error %q does not name %s", tc.name, err, tc.file)
			}
			t.Logf("%v; %.1f MB allocated", err, float64(n)/(1<<20))
			if n > bound {
				t.Errorf("%s: the process allocated %d MB answering, want at most %d MB", tc.name, n>>20, bound>>20)
			}
		})
	}
	if fs, err := h.client.Flags(ctx); err != nil || len(fs) != 0 {
		t.Errorf("flags after refused changes: %v, %v; want none", fs, err)
	}
	if _, err := h.client.Service(ctx, "web"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("service after refused deploys: %v, want not found", err)
	}
}
