package yamlread

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/yamlread/yamltest"
)

// flagBomb is the shape of the review's reproduction of finding 5: a flag whose object
// variant doubles a 600-byte string through eleven levels of anchors, 1.1 KB of YAML that
// stands for 1.2 MB of text.
func flagBomb() string {
	var b strings.Builder
	b.WriteString("flags:\n  - key: big\n    type: object\n    default_variant: off\n    variants:\n")
	fmt.Fprintf(&b, "      v0: &v0 {s: %s}\n", strings.Repeat("x", 600))
	for i := 1; i <= 11; i++ {
		fmt.Fprintf(&b, "      v%d: &v%d {a: *v%d, b: *v%d}\n", i, i, i-1, i-1)
	}
	b.WriteString("      off: {}\n")
	return b.String()
}

// TestBombsStayBounded feeds the review's reproductions and other pathological documents
// and checks the error and that parsing allocates a bounded amount, whatever the document
// would expand to.
func TestBombsStayBounded(t *testing.T) {
	const bound = 48 << 20
	big := Limits{Bytes: 1 << 20, Depth: 64, Aliases: 1000, Nodes: 150_000, ExpandedBytes: 4 << 20}
	for _, tc := range []struct {
		name, doc string
		limit     string
		lim       Limits // testLimits when zero
	}{
		{"anchor redefinition bomb", yamltest.RedefinitionBomb("", 9), LimitNodes, Limits{}},
		{"flag import bomb", flagBomb(), LimitExpandedBytes, Limits{}},
		{"deep flow nesting", "a: " + strings.Repeat("[", 60_000), LimitDepth, Limits{}},
		{"deep flow mappings", "a: " + strings.Repeat("{a: ", 15_000), LimitDepth, Limits{}},
		{"deep block lists", "a:\n" + strings.Repeat("- ", 30_000) + "x\n", LimitDepth, Limits{}},
		{"deep through aliases", deepAliases(), LimitDepth, Limits{}},
		{"staircase of long keys", staircase(500, 1<<20), LimitDepth, big},
		{"huge scalar", "a: " + strings.Repeat("x", 10<<20), LimitBytes, Limits{}},
		{"huge scalar repeated", "a: &a " + strings.Repeat("x", 60_000) + "\nb: [" + strings.Repeat("*a, ", 99) + "*a]\n", LimitExpandedBytes, Limits{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := tc.lim
			if lim == (Limits{}) {
				lim = testLimits
			}
			var err error
			n := yamltest.Allocated(func() {
				var v any
				err = Unmarshal([]byte(tc.doc), &v, lim)
			})
			var e *Error
			if !errors.As(err, &e) || e.Limit != tc.limit {
				t.Errorf("Unmarshal(%s) = %v, want an *Error for limit %q", tc.name, err, tc.limit)
			}
			t.Logf("%d bytes in: %v; %.1f MB allocated", len(tc.doc), err, float64(n)/(1<<20))
			if n > bound {
				t.Errorf("Unmarshal(%s) allocated %d MB, want at most %d MB", tc.name, n>>20, bound>>20)
			}
		})
	}
}

// deepAliases nests a list 20 deep, then aliases it inside itself twice: 60 levels expanded.
func deepAliases() string {
	return "a: &a " + strings.Repeat("[", 20) + strings.Repeat("]", 20) + "\n" +
		"b: &b " + strings.Repeat("[", 20) + "*a" + strings.Repeat("]", 20) + "\n" +
		"c: " + strings.Repeat("[", 20) + "*b" + strings.Repeat("]", 20) + "\n"
}

// staircase writes keys of n bytes, each indented one more than the last, up to size bytes:
// a mapping nested as deep as the size allows, which the parser reads in memory growing
// with the square of the depth (524 MB for 1 MB of 500-byte keys).
func staircase(n, size int) string {
	var b strings.Builder
	for i := 0; b.Len()+i+n+2 <= size; i++ {
		b.WriteString(strings.Repeat(" ", i) + strings.Repeat("k", n) + ":\n")
	}
	return b.String()
}
