package spec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse checks that Parse never panics, that its errors are field errors, and that a spec
// it accepts re-validates and survives the YAML and JSON round trips unchanged.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(base))
	f.Fuzz(func(t *testing.T, doc []byte) {
		s, err := Parse(doc, "fuzz.yaml")
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Parse error %v (%T) is not a non-empty Errors", err, err)
			}
			for _, e := range errs {
				if e.Message == "" {
					t.Fatalf("field error without a message: %+v", e)
				}
			}
			return
		}
		if errs := Validate(s); len(errs) != 0 {
			t.Fatalf("parsed spec does not re-validate: %v", errs)
		}
		out, err := Marshal(s)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := Parse(out, "marshalled.yaml")
		if err != nil {
			t.Fatalf("Parse(Marshal(s)) = %v\n%s", err, out)
		}
		if diff := cmp.Diff(s, back); diff != "" {
			t.Fatalf("YAML round trip (-parsed +back):\n%s", diff)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		var fromJSON Service
		if err := json.Unmarshal(b, &fromJSON); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", b, err)
		}
		if diff := cmp.Diff(s, &fromJSON); diff != "" {
			t.Fatalf("JSON round trip (-parsed +back):\n%s", diff)
		}
	})
}
