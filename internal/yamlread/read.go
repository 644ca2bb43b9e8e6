// Package yamlread is cutover's one way to read YAML that comes from outside: spec files,
// compose files, flags and their imports. It parses a document once with
// github.com/goccy/go-yaml, refuses it past Limits (size, nesting, aliases and what the
// aliases expand to), resolves every alias to the anchor YAML says it names (the most recent
// one defined before it) and hands back a tree without anchors or aliases. Decoding that tree
// builds exactly what was measured and validated, so no second parse can read the document
// differently.
//
// It must not know what the documents mean: callers decode the tree into their own types.
package yamlread

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Limits bound what a document may cost. Every field must be positive.
type Limits struct {
	// Bytes bounds the document's size as given.
	Bytes int
	// Depth bounds nesting: how many mappings and lists a value may sit in, counted with the
	// aliases expanded (the values of a top-level mapping sit in one).
	Depth int
	// Aliases bounds how many aliases (*name) the document holds.
	Aliases int
	// Nodes bounds how many values the document stands for once its aliases are expanded:
	// each scalar, list, mapping and mapping key counts one.
	Nodes int64
	// ExpandedBytes bounds the text of those values: a string counts its length, any other
	// scalar at least 24 bytes (the longest a number reads as when it becomes a key).
	ExpandedBytes int64
}

// The names of the limits, as Error.Limit reports them.
const (
	LimitBytes         = "bytes"
	LimitDepth         = "depth"
	LimitAliases       = "aliases"
	LimitNodes         = "nodes"
	LimitExpandedBytes = "expanded bytes"
)

// Error is a document Parse refuses: malformed YAML (Limit is empty) or a limit exceeded.
// Line and Column (1-based) are 0 when unknown.
type Error struct {
	Line, Column int
	Limit        string
	Msg          string
}

// Error formats the error as "line:col: msg".
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
	}
	return e.Msg
}

// Document is one parsed YAML document with its aliases resolved.
type Document struct {
	root ast.Node
}

// Root returns the document's body, nil for an empty document. The tree has no anchor or
// alias nodes: an alias is replaced by the node its anchor names, which is then shared by
// every place that names it. Callers must not modify it.
func (d *Document) Root() ast.Node { return d.root }

// Decode decodes the document into v with go-yaml's decoder and opts; an empty document
// leaves v as it is. A decoder panic is returned as an error.
func (d *Document) Decode(v any, opts ...yaml.DecodeOption) (err error) {
	if d.root == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decode YAML: %v", r)
		}
	}()
	return yaml.NodeToValue(d.root, v, opts...)
}

// Unmarshal parses data within lim and decodes it into v (see Parse and Document.Decode).
func Unmarshal(data []byte, v any, lim Limits, opts ...yaml.DecodeOption) error {
	doc, err := Parse(data, lim)
	if err != nil {
		return err
	}
	return doc.Decode(v, opts...)
}

// Parse reads data as a single YAML document within lim. Every error is an *Error with the
// position of the problem: malformed YAML, more than one document, a limit exceeded, an
// alias with no anchor before it or one inside the node its anchor names. A panic of the
// YAML parser comes back as an *Error too.
func Parse(data []byte, lim Limits) (doc *Document, err error) {
	defer func() {
		// The YAML parser is not ours; a crafted document must not take the process down.
		if r := recover(); r != nil {
			doc, err = nil, &Error{Msg: fmt.Sprintf("malformed YAML: %v", r)}
		}
	}()
	if len(data) > lim.Bytes {
		return nil, &Error{Limit: LimitBytes, Msg: fmt.Sprintf("document is %d bytes; the limit is %d", len(data), lim.Bytes)}
	}
	tokens := lexer.Tokenize(string(data))
	if e := checkNesting(tokens, lim.Depth); e != nil {
		return nil, e
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, syntaxError(err)
	}
	var bodies []ast.Node
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			bodies = append(bodies, d.Body)
		}
	}
	switch len(bodies) {
	case 0:
		return &Document{}, nil
	case 1:
	default:
		return nil, errorAt(bodies[1], "", "want one YAML document, found %d", len(bodies))
	}
	r := &resolver{lim: lim, anchors: map[string]*anchor{}}
	root, _, err := r.resolve(bodies[0], 0)
	if err != nil {
		return nil, err
	}
	return &Document{root: root}, nil
}

// checkNesting refuses, before the parser sees them, flow collections nested deeper than
// depth, lines indented into more than depth+1 blocks (a scalar may sit on its own, more
// indented line) and block list entries further right than 16 columns a level: the parser's
// time and memory grow with the square of the nesting, so "[[[[..." or a staircase of keys
// would hold a caller for minutes and take gigabytes.
func checkNesting(tokens token.Tokens, depth int) *Error {
	level, line := 0, 0
	var indents []int // the columns of the open blocks
	var prev token.Type
	for _, tk := range tokens {
		if tk.Position == nil || tk.Type == token.CommentType {
			continue
		}
		deep := false
		// The first token of a line, outside flow collections and block scalars: its
		// indentation says how many blocks it is in.
		if tk.Position.Line != line && level == 0 && prev != token.LiteralType && prev != token.FoldedType {
			c := tk.Position.Column
			for len(indents) > 0 && indents[len(indents)-1] > c {
				indents = indents[:len(indents)-1]
			}
			if len(indents) == 0 || indents[len(indents)-1] < c {
				indents = append(indents, c)
			}
			deep = len(indents) > depth+1
		}
		line, prev = tk.Position.Line, tk.Type
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			level++
			deep = deep || level > depth
		case token.SequenceEndType, token.MappingEndType:
			level--
		case token.SequenceEntryType, token.MappingKeyType:
			// "- - - -" nests block lists on one line; the column is the depth.
			deep = deep || tk.Position.Column > 16*depth
		}
		if deep {
			return &Error{Line: tk.Position.Line, Column: tk.Position.Column, Limit: LimitDepth,
				Msg: fmt.Sprintf("nested too deeply: more than %d levels", depth)}
		}
	}
	return nil
}

// syntaxError turns a YAML parser error into an *Error at its position.
func syntaxError(err error) *Error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &Error{Msg: "malformed YAML: " + ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
		}
		return e
	}
	return &Error{Msg: "malformed YAML: " + err.Error()}
}

// errorAt returns an *Error positioned at n.
func errorAt(n ast.Node, limit, format string, args ...any) *Error {
	e := &Error{Limit: limit, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
		}
	}
	return e
}
