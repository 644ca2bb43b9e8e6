package spec

import (
	"fmt"
	"slices"
	"strings"
)

// FieldError is one problem with one field of a spec. Path names the field the way the spec
// file spells it ("strategy.rolling.max_surge", "run.env.FOO", "hooks.smoke.args[1]"); it is
// empty for a document that is not YAML at all. Line and Column are 1-based positions in the
// document, zero when the error is not tied to a place in it (Validate on a Service built in Go).
type FieldError struct {
	// File names the document, when Parse was given a name.
	File    string
	Path    string
	Line    int
	Column  int
	Message string
}

// Error renders the error as "file:line:column: path: message", leaving out what is unknown.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors is every problem found in a spec, as returned by Parse and Validate.
// Parse returns it sorted by position; use errors.As to get at it.
type Errors []*FieldError

// Error renders one line per field error.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// add appends an error at path with a formatted message.
func (es *Errors) add(path, format string, args ...any) {
	*es = append(*es, &FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// sortByPosition orders errors by line and column; errors without a position go last,
// in the order they were found.
func (es Errors) sortByPosition() {
	slices.SortStableFunc(es, func(a, b *FieldError) int {
		switch {
		case a.Line == 0 && b.Line == 0:
			return 0
		case a.Line == 0:
			return 1
		case b.Line == 0:
			return -1
		case a.Line != b.Line:
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
}

// joinPath appends a field name to a path.
func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// indexPath appends a list index to a path.
func indexPath(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}
