package spec

import (
	"errors"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/cutover/cutover/internal/yamlread"
)

// MaxSize is the largest spec document Parse reads, in bytes. Specs are a few kilobytes; the
// limit bounds the YAML parser's time, which grows faster than the size.
const MaxSize = 64 << 10

// Limits are what a spec document may cost (see yamlread.Limits): MaxSize bytes, 32 levels
// of nesting (a spec has about six), 256 aliases, and with the aliases expanded 40,000
// values (more than MaxSize bytes can write without them) and 256 KiB of text.
var Limits = yamlread.Limits{Bytes: MaxSize, Depth: 32, Aliases: 256, Nodes: 40_000, ExpandedBytes: 4 * MaxSize}

// Parse reads a spec file strictly: malformed YAML, unknown fields and values of the wrong type
// are errors, then defaults are applied to the fields the document leaves out (an explicit zero
// stays zero) and the result is validated. Every problem is reported at once, as Errors sorted
// by position, each with its field path and, where the document has the field, its line and
// column; file names the document in the messages. A document past Limits is one error naming
// the limit. An alias stands for the latest anchor of its name before it, as in YAML. On error
// the Service is nil.
func Parse(data []byte, file string) (*Service, error) {
	root, ferr := parseDocument(data)
	if ferr != nil {
		ferr.File = file
		return nil, Errors{ferr}
	}
	var s Service
	d := newDecoder()
	if root != nil {
		d.decodeStruct("", d.resolve(root), reflect.ValueOf(&s).Elem())
	}
	applyDefaults(&s, func(path string) bool { return d.present[path] })
	errs := d.errs
	for _, e := range Validate(&s) {
		if d.failedAt(e.Path) {
			continue // the decode error already explains this field
		}
		if p := d.nearestPosition(e.Path); p != nil {
			e.Line, e.Column = p.Line, p.Column
		}
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		for _, e := range errs {
			e.File = file
		}
		errs.sortByPosition()
		return nil, errs
	}
	return &s, nil
}

// parseDocument reads data within Limits into the body of its single document, its aliases
// resolved (nil for an empty document).
func parseDocument(data []byte) (ast.Node, *FieldError) {
	doc, err := yamlread.Parse(data, Limits)
	if err != nil {
		return nil, readError(err)
	}
	body := doc.Root()
	if body == nil {
		return nil, nil
	}
	if _, ok := mappingValues(body); !ok {
		e := &FieldError{Message: "a spec must be a mapping of fields (name, run, route, ...), not " + describe(body)}
		if p := position(body); p != nil {
			e.Line, e.Column = p.Line, p.Column
		}
		return nil, e
	}
	return body, nil
}

// readError turns an error of the YAML reader into a FieldError at its position.
func readError(err error) *FieldError {
	var re *yamlread.Error
	if !errors.As(err, &re) {
		return &FieldError{Message: err.Error()}
	}
	return &FieldError{Line: re.Line, Column: re.Column, Message: re.Msg}
}

// failedAt reports whether path, or a field it is part of, had a decode error.
func (d *decoder) failedAt(path string) bool {
	for p := path; p != ""; p = parentPath(p) {
		if d.failed[p] {
			return true
		}
	}
	return false
}

// nearestPosition returns the position of path, or of its nearest ancestor in the document.
func (d *decoder) nearestPosition(path string) *token.Position {
	for p := path; p != ""; p = parentPath(p) {
		if pos := d.pos[p]; pos != nil {
			return pos
		}
	}
	return nil
}

// parentPath strips the last ".field" or "[i]" from a path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}
