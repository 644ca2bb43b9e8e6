package yamlread

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testLimits are the limits of a spec file, the strictest input.
var testLimits = Limits{Bytes: 64 << 10, Depth: 32, Aliases: 100, Nodes: 20_000, ExpandedBytes: 1 << 20}

func decode(t *testing.T, doc string, lim Limits) (any, error) {
	t.Helper()
	var v any
	err := Unmarshal([]byte(doc), &v, lim)
	return v, err
}

// TestAliasNamesTheAnchorBeforeIt: an alias is the most recent anchor of its name defined
// before it; a later redefinition does not change it (the review's finding 4).
func TestAliasNamesTheAnchorBeforeIt(t *testing.T) {
	doc := "a: &x first\nb: *x\nc: &x second\nd: *x\ne: [&y 1, *y, &y 2, *y]\n"
	got, err := decode(t, doc, testLimits)
	if err != nil {
		t.Fatalf("Unmarshal(%q): %v", doc, err)
	}
	want := map[string]any{"a": "first", "b": "first", "c": "second", "d": "second", "e": []any{uint64(1), uint64(1), uint64(2), uint64(2)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Unmarshal(%q) (-want +got):\n%s", doc, diff)
	}
}

func TestRootHasNoAnchorsOrAliases(t *testing.T) {
	doc, err := Parse([]byte("a: &x {k: v}\nb: *x\nc: !!str &s 1\nd: *s\n"), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if s := doc.Root().String(); strings.ContainsAny(s, "&*") {
		t.Errorf("resolved document still has anchors or aliases:\n%s", s)
	}
}

func TestParseRefuses(t *testing.T) {
	small := Limits{Bytes: 200, Depth: 3, Aliases: 2, Nodes: 20, ExpandedBytes: 100}
	for _, tc := range []struct {
		name, doc  string
		line, col  int
		limit, msg string
	}{
		{"malformed", "a: [1, 2\nb: 3\n", 2, 1, "", "malformed YAML"},
		{"two documents", "a: 1\n---\nb: 2\n", 3, 2, "", "one YAML document"},
		{"alias before its anchor", "a: *x\nb: &x 1\n", 1, 4, "", "no anchor defined before it"},
		{"alias inside its anchor", "a: &x [1, *x]\n", 1, 11, "", "inside the node its anchor names"},
		{"anchor redefined inside itself", "a: &x [&x 1, *x]\n", 1, 8, "", "defined again inside"},
		{"alias to a list as a key", "a: &x [1]\n*x : v\n", 2, 1, "", "a key must be a scalar"},
		{"too large", "# " + strings.Repeat("x", 198) + "\n", 0, 0, LimitBytes, "201 bytes; the limit is 200"},
		{"flow nesting", "a: [[[1]]]\n", 1, 6, LimitDepth, "nested too deeply: more than 3 levels"},
		{"block nesting", "a:\n  b:\n    c:\n      d: 1\n", 4, 8, LimitDepth, "nested too deeply"},
		{"nesting through an alias", "a: &x [[1]]\nb: [*x]\n", 2, 5, LimitDepth, "once *x is expanded"},
		{"aliases", "a: &x 1\nb: [*x, *x, *x]\n", 2, 13, LimitAliases, "more than 2 aliases"},
		{"values", "a: &x [a, a, a, a, a, a, a, a]\nb: [*x, *x]\n", 2, 1, LimitNodes, "more than 20 values through aliases"},
		{"values without aliases", "[" + strings.Repeat("a, ", 20) + "a]\n", 1, 59, LimitNodes, "more than 20 values\n"},
		{"text", "a: &x " + strings.Repeat("x", 60) + "\nb: *x\n", 2, 1, LimitExpandedBytes, "more than 100 bytes of text through aliases"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), small)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, want an *Error", tc.doc, err)
			}
			if e.Line != tc.line || e.Column != tc.col || e.Limit != tc.limit || !strings.Contains(e.Msg+"\n", tc.msg) {
				t.Errorf("Parse(%q) = %q at %d:%d limit %q; want %q at %d:%d limit %q", tc.doc, e.Msg, e.Line, e.Column, e.Limit, tc.msg, tc.line, tc.col, tc.limit)
			}
		})
	}
}

func TestParseAcceptsUpToTheLimits(t *testing.T) {
	lim := Limits{Bytes: 64, Depth: 3, Aliases: 2, Nodes: 10, ExpandedBytes: 5}
	// {a: [b], c: [[b], [b]]}: "b" sits in three collections; 1 mapping, 2 keys, [b] and b,
	// then a list and twice [b] and b: 10 values; a, c and three b: 5 bytes.
	doc := "a: &x [b]\nc: [*x, *x]\n"
	got, err := decode(t, doc, lim)
	if err != nil {
		t.Fatalf("Unmarshal(%q) at its limits: %v", doc, err)
	}
	want := map[string]any{"a": []any{"b"}, "c": []any{[]any{"b"}, []any{"b"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Line: 3, Column: 7, Limit: LimitAliases, Msg: "more than 2 aliases"}
	if got, want := e.Error(), "3:7: more than 2 aliases"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := fmt.Sprint(&Error{Msg: "m"}); got != "m" {
		t.Errorf("Error() without position = %q", got)
	}
}
