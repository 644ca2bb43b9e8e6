package compose

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/compose-spec/compose-go/v2/template"

	"github.com/cutover/cutover/internal/spec"
)

// required gathers every ${VAR:?message} and ${VAR?message} whose variable has no value,
// instead of stopping at the first one as compose-go does, so that a refusal lists them all,
// each with its message, the way the spec's config check lists every missing variable.
type required struct {
	missing []template.MissingRequiredError
}

// maxMissing bounds the rounds of substitution one value may take (one missing variable each).
const maxMissing = 100

// substitute is compose-go's substitution, which on a missing required variable records it
// and goes on with a placeholder in its place, so the rest of the file is read as well.
func (r *required) substitute(value string, mapping template.Mapping) (string, error) {
	filled := map[string]bool{}
	lookup := func(name string) (string, bool) {
		if filled[name] {
			return "0", true // a placeholder that also passes ports, numbers and durations
		}
		return mapping(name)
	}
	for range maxMissing {
		out, err := template.Substitute(value, lookup)
		var mr *template.MissingRequiredError
		if !errors.As(err, &mr) || filled[mr.Variable] {
			return out, err
		}
		filled[mr.Variable] = true
		if !slices.ContainsFunc(r.missing, func(m template.MissingRequiredError) bool { return m.Variable == mr.Variable }) {
			r.missing = append(r.missing, *mr)
		}
	}
	return "", fmt.Errorf("%q: more than %d required variables in one value", value, maxMissing)
}

// err returns the missing variables as spec errors, each at the first place a file asks for
// it (file:line), or nil when none is missing.
func (r *required) err(src *sources) error {
	if len(r.missing) == 0 {
		return nil
	}
	var errs spec.Errors
	for _, m := range r.missing {
		e := &spec.FieldError{Path: "${" + m.Variable + "}", Message: "required variable " + m.Variable + " is not set"}
		if m.Reason != "" {
			e.Message += ": " + m.Reason
		}
		e.File, e.Line, e.Column = src.findRequired(m.Variable)
		errs = append(errs, e)
	}
	slices.SortStableFunc(errs, func(a, b *spec.FieldError) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column), cmp.Compare(a.Path, b.Path))
	})
	return errs
}

// findRequired returns where ${name:? or ${name? is first written in the files.
func (s *sources) findRequired(name string) (string, int, int) {
	re := regexp.MustCompile(`\$\{` + regexp.QuoteMeta(name) + `:?\?`)
	for _, f := range s.files {
		loc := re.FindIndex(f.data)
		if loc == nil {
			continue
		}
		before := f.data[:loc[0]]
		line := bytes.Count(before, []byte("\n")) + 1
		return f.name, line, loc[0] - bytes.LastIndexByte(before, '\n')
	}
	return "", 0, 0
}
