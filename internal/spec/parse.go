package spec

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// MaxSize is the largest spec document Parse reads, in bytes. Specs are a few kilobytes; the
// limit bounds the YAML parser's time, which grows faster than the size.
const MaxSize = 64 << 10

const (
	maxFlowDepth   = 64
	maxBlockColumn = 512
)

// Parse reads a spec file strictly: malformed YAML, unknown fields and values of the wrong type
// are errors, then defaults are applied to the fields the document leaves out (an explicit zero
// stays zero) and the result is validated. Every problem is reported at once, as Errors sorted
// by position, each with its field path and, where the document has the field, its line and
// column; file names the document in the messages. On error the Service is nil.
func Parse(data []byte, file string) (*Service, error) {
	root, ferr := parseDocument(data)
	if ferr != nil {
		ferr.File = file
		return nil, Errors{ferr}
	}
	var s Service
	d := newDecoder(root)
	if root != nil {
		d.decodeStruct("", d.resolve(root), reflect.ValueOf(&s).Elem(), 0)
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

// parseDocument parses data into the body of its single document (nil for an empty one).
func parseDocument(data []byte) (root ast.Node, ferr *FieldError) {
	defer func() {
		// The YAML parser is not ours; a crafted document must not take the daemon down.
		if r := recover(); r != nil {
			root, ferr = nil, &FieldError{Message: fmt.Sprintf("malformed YAML: %v", r)}
		}
	}()
	if len(data) > MaxSize {
		return nil, &FieldError{Message: fmt.Sprintf("spec is %d bytes; the limit is %d", len(data), MaxSize)}
	}
	tokens := lexer.Tokenize(string(data))
	if e := checkNesting(tokens); e != nil {
		return nil, e
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, syntaxError(err)
	}
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			docs = append(docs, doc)
		}
	}
	switch len(docs) {
	case 0:
		return nil, nil
	case 1:
	default:
		e := &FieldError{Message: "a spec file holds one YAML document, found " + fmt.Sprint(len(docs))}
		if p := position(docs[1].Body); p != nil {
			e.Line, e.Column = p.Line, p.Column
		}
		return nil, e
	}
	body := docs[0].Body
	if _, ok := mappingValues(body); !ok {
		e := &FieldError{Message: "a spec must be a mapping of fields (name, run, route, ...), not " + describe(body)}
		if p := position(body); p != nil {
			e.Line, e.Column = p.Line, p.Column
		}
		return nil, e
	}
	return body, nil
}

// checkNesting refuses documents nested deeper than any spec is: the YAML parser takes time
// quadratic in the depth, so "[[[[..." would otherwise hold a request for minutes.
func checkNesting(tokens token.Tokens) *FieldError {
	depth := 0
	for _, tk := range tokens {
		deep := false
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			depth++
			deep = depth > maxFlowDepth
		case token.SequenceEndType, token.MappingEndType:
			depth--
		case token.SequenceEntryType, token.MappingKeyType:
			// "- - - -" nests block lists on one line; the column is the depth.
			deep = tk.Position != nil && tk.Position.Column > maxBlockColumn
		}
		if deep {
			e := &FieldError{Message: "malformed YAML: nested too deeply"}
			if tk.Position != nil {
				e.Line, e.Column = tk.Position.Line, tk.Position.Column
			}
			return e
		}
	}
	return nil
}

// syntaxError turns a YAML parser error into a FieldError at its position.
func syntaxError(err error) *FieldError {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &FieldError{Message: "malformed YAML: " + ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
		}
		return e
	}
	return &FieldError{Message: "malformed YAML: " + err.Error()}
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
