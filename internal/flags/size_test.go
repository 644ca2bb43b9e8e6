package flags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/yamlread/yamltest"
)

// flagBomb is the review's reproduction of finding 5: about 1.1 KB of YAML whose object
// variant doubles a 100-byte string through levels anchors; at 15 levels it stood for a
// 3.4 MB flag once stored.
func flagBomb(levels int) string {
	var b strings.Builder
	b.WriteString("flags:\n  - key: big\n    type: object\n    default_variant: small\n    variants:\n      small: {}\n")
	fmt.Fprintf(&b, "      v0: &v0 {s: %s}\n", strings.Repeat("x", 100))
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "      v%d: &v%d {a: *v%d, b: *v%d}\n", i, i, i-1, i-1)
	}
	return b.String()
}

// TestImportRefusesBombs: an import that stands for more than the limits is refused whole,
// with its position and the limit, in bounded memory, and nothing is stored.
func TestImportRefusesBombs(t *testing.T) {
	const bound = 64 << 20
	for _, tc := range []struct {
		name, doc, msg string
		bound          uint64
	}{
		{"flag import bomb", flagBomb(15), "document expands to more than 100000 values through aliases", bound},
		{"flag over the size cap", flagBomb(12), "flags[0]: the flag is", bound},
		{"deep nesting", "flags: " + strings.Repeat("[", 100_000), "nested too deeply: more than 64 levels", bound},
		{"huge scalar", "flags: [" + strings.Repeat("x", 2<<20) + "]", "the limit is 262144", bound},
		// The densest document the byte limit lets through: go-yaml's lexer and parser hold
		// about 400 bytes a byte of it, which is why the limit is 256 KiB.
		{"dense document at the byte limit", "[" + strings.Repeat("a,", DocumentLimits.Bytes/2-1) + "]", "more than 100000 values", 4 * bound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, st := newManager(t, nil)
			var err error
			n := yamltest.Allocated(func() { _, err = m.Import(context.Background(), "alice", []byte(tc.doc), ImportOptions{}) })
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) != 1 || !strings.Contains(ve.Errors[0].Error(), tc.msg) {
				t.Fatalf("Import(%s) = %v, want one error containing %q", tc.name, err, tc.msg)
			}
			t.Logf("%d bytes: %v; %.1f MB allocated", len(tc.doc), err, float64(n)/(1<<20))
			if n > tc.bound {
				t.Errorf("Import(%s) allocated %d MB, want at most %d MB", tc.name, n>>20, tc.bound>>20)
			}
			if fs, _, _ := st.LoadFlags(context.Background()); len(fs) != 0 {
				t.Errorf("Import(%s) stored %d flags, want none", tc.name, len(fs))
			}
		})
	}
}

// TestFlagSizeCap: a flag over MaxFlagBytes is refused however it comes (JSON or YAML),
// one under it is stored.
func TestFlagSizeCap(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, nil)
	flag := func(n int) Flag {
		return Flag{Key: "big", Type: String, Variants: map[string]any{"a": strings.Repeat("x", n)}, DefaultVariant: "a"}
	}
	if err := m.PutFlag(ctx, "alice", flag(MaxFlagBytes-200)); err != nil {
		t.Fatalf("PutFlag(under the cap): %v", err)
	}
	err := m.PutFlag(ctx, "alice", flag(MaxFlagBytes))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "bytes as JSON; the limit is 65536") {
		t.Fatalf("PutFlag(over the cap) = %v, want the size limit", err)
	}
	if f, _ := m.Flag("big"); len(f.Variants["a"].(string)) != MaxFlagBytes-200 {
		t.Errorf("a refused flag changed the stored one")
	}
	doc, _ := json.Marshal(flag(MaxFlagBytes)) // JSON is YAML
	_, err = m.Import(ctx, "alice", []byte(`{"flags": [`+string(doc)+`]}`), ImportOptions{})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "flags[0]: the flag is") {
		t.Fatalf("Import(over the cap) = %v, want the size limit at flags[0]", err)
	}
	seg := Segment{Name: "many", Conditions: []Condition{{Attribute: "id", Op: OpOneOf, Value: strings.Split(strings.Repeat("someone,", MaxFlagBytes/8), ",")}}}
	if err := m.PutSegment(ctx, "alice", seg); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "the segment is") {
		t.Fatalf("PutSegment(over the cap) = %v, want the size limit", err)
	}
}
