package yamlread

import (
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fuzzLimits are small, so that the fuzzer reaches every limit.
var fuzzLimits = Limits{Bytes: 4 << 10, Depth: 8, Aliases: 16, Nodes: 400, ExpandedBytes: 2 << 10}

// FuzzUnmarshal checks the reader against the plain decoder: a document the reader accepts
// decodes to the same value as go-yaml's Unmarshal gives, and that value is within the
// limits. Its seed corpus (testdata/fuzz/FuzzUnmarshal) runs with every go test.
func FuzzUnmarshal(f *testing.F) {
	f.Fuzz(func(t *testing.T, doc []byte) {
		var got any
		if err := Unmarshal(doc, &got, fuzzLimits); err != nil {
			return
		}
		var want any
		if err := yaml.Unmarshal(doc, &want); err != nil {
			t.Fatalf("reader accepts %q, the decoder refuses it: %v", doc, err)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("reader and decoder disagree on %q (-decoder +reader):\n%s", doc, diff)
		}
		m := measure(got)
		if m.nodes > fuzzLimits.Nodes || m.bytes > fuzzLimits.ExpandedBytes || m.height > fuzzLimits.Depth {
			t.Fatalf("reader accepts %q, which decodes past the limits: %+v", doc, m)
		}
	})
}

// measure counts a decoded value the way Limits do: values, the text of strings and keys,
// and the nesting.
func measure(v any) size {
	switch v := v.(type) {
	case map[string]any:
		s := size{nodes: 1}
		for k, e := range v {
			s = s.plus(size{nodes: 1, bytes: int64(len(k))}).plus(measure(e))
		}
		s.height++
		return s
	case []any:
		s := size{nodes: 1}
		for _, e := range v {
			s = s.plus(measure(e))
		}
		s.height++
		return s
	case string:
		return size{nodes: 1, bytes: int64(len(v))}
	case []byte:
		return size{nodes: 1, bytes: int64(len(v))}
	}
	return size{nodes: 1}
}
