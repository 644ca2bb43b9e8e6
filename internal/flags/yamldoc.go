package flags

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/cutover/cutover/internal/yamlread"
)

// Document is a flags-as-code file: segments first, since flags refer to them.
//
//	segments:
//	  - name: internal-users
//	    conditions: [{attribute: email, op: ends_with, value: "@example.com"}]
//	flags:
//	  - key: new-checkout
//	    type: boolean
//	    variants: {on: true, off: false}
//	    default_variant: "off"
//	    enabled: true
//	    rules: [{segments: [internal-users], variant: "on"}]
//	    rollout: {variant: "on", steps: [{at: 2026-07-01T09:00:00Z, percent: 10}]}
type Document struct {
	Segments []Segment `json:"segments,omitempty" yaml:"segments,omitempty"`
	Flags    []Flag    `json:"flags" yaml:"flags"`
}

// DocumentLimits are what a flags-as-code file may cost (see yamlread.Limits): 256 KiB (the
// YAML parser holds about 400 bytes per byte of a dense document while it reads it), 64
// levels of nesting (object variants nest), 1,000 aliases, and with the aliases expanded
// 100,000 values and 4 MiB of text.
var DocumentLimits = yamlread.Limits{Bytes: 256 << 10, Depth: 64, Aliases: 1000, Nodes: 100_000, ExpandedBytes: 4 << 20}

// FlagLimits are what the YAML text of one flag may cost: a stored flag is at most
// MaxFlagBytes, and its text is read within that size and four times that expanded.
var FlagLimits = yamlread.Limits{Bytes: MaxFlagBytes, Depth: 64, Aliases: 256, Nodes: 50_000, ExpandedBytes: 4 * MaxFlagBytes}

// ParseDocument decodes a flags-as-code YAML file strictly: syntax errors, unknown fields,
// wrong types, duplicate keys and every semantic problem are all reported at once in one
// *ValidationError whose FieldErrors carry line and column. A file past DocumentLimits is
// one error naming the limit; an alias stands for the latest anchor of its name before it.
// known holds segments that exist outside the file; flags may refer to them. Values come
// back normalized.
func ParseDocument(data []byte, known Segments) (*Document, error) {
	file, err := yamlread.Parse(data, DocumentLimits)
	if err != nil {
		return nil, &ValidationError{Errors: []*FieldError{yamlError("", err)}}
	}
	var p problems
	pos := map[string]*token.Position{}
	var doc Document
	if body := file.Root(); body != nil {
		checkNode(&p, body, "", reflect.TypeFor[Document](), pos)
		if err := file.Decode(&doc); err != nil {
			p.list = append(p.list, yamlError("", err))
		}
	}
	checkDocument(&p, &doc, known)
	if err := p.err(); err != nil {
		locate(err.(*ValidationError), pos)
		return nil, err
	}
	return &doc, nil
}

// checkDocument normalizes and validates every segment and flag, and finds duplicates.
func checkDocument(p *problems, doc *Document, known Segments) {
	segs := Segments{}
	for k, v := range known {
		segs[k] = v
	}
	seen := map[string]bool{}
	for i := range doc.Segments {
		s := &doc.Segments[i]
		NormalizeSegment(s)
		at := fmt.Sprintf("segments[%d].", i)
		p.segment(at, s)
		if seen[s.Name] {
			p.add(at+"name", "segment %q is defined twice", s.Name)
		}
		seen[s.Name] = true
		segs[s.Name] = *s
	}
	seen = map[string]bool{}
	for i := range doc.Flags {
		f := &doc.Flags[i]
		Normalize(f)
		at := fmt.Sprintf("flags[%d].", i)
		p.flag(at, f, segs)
		if seen[f.Key] {
			p.add(at+"key", "flag %q is defined twice", f.Key)
		}
		seen[f.Key] = true
	}
}

// yamlError turns an error of the YAML reader or decoder into a FieldError with its position.
func yamlError(path string, err error) *FieldError {
	fe := &FieldError{Path: path, Msg: err.Error()}
	var re *yamlread.Error
	var ye yaml.Error
	switch {
	case errors.As(err, &re):
		fe.Msg, fe.Line, fe.Column = re.Msg, re.Line, re.Column
	case errors.As(err, &ye):
		fe.Msg = ye.GetMessage()
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			fe.Line, fe.Column = tk.Position.Line, tk.Position.Column
		}
	}
	return fe
}

// locate fills in the line and column of every error from the nearest known path.
func locate(ve *ValidationError, pos map[string]*token.Position) {
	for _, fe := range ve.Errors {
		if fe.Line > 0 {
			continue
		}
		for path := fe.Path; path != ""; path = parentPath(path) {
			if p, ok := pos[path]; ok {
				fe.Line, fe.Column = p.Line, p.Column
				break
			}
		}
	}
	slices.SortStableFunc(ve.Errors, func(a, b *FieldError) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
}

// parentPath drops the last ".name" or "[i]" of path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// checkNode records the position of every path under n and reports each mapping key that
// the Go type t does not have, so that all unknown fields are found, not just the first.
func checkNode(p *problems, n ast.Node, path string, t reflect.Type, pos map[string]*token.Position) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n := n.(type) {
	case *ast.TagNode:
		checkNode(p, n.Value, path, t, pos)
	case *ast.MappingNode:
		for _, v := range n.Values {
			checkPair(p, v, path, t, pos)
		}
	case *ast.MappingValueNode:
		checkPair(p, n, path, t, pos)
	case *ast.SequenceNode:
		if t.Kind() != reflect.Slice {
			return // the decoder reports the type error
		}
		for i, e := range n.Values {
			ep := fmt.Sprintf("%s[%d]", path, i)
			pos[ep] = e.GetToken().Position
			checkNode(p, e, ep, t.Elem(), pos)
		}
	}
}

// checkPair handles one "key: value" of a mapping decoded into t.
func checkPair(p *problems, v *ast.MappingValueNode, path string, t reflect.Type, pos map[string]*token.Position) {
	key := v.Key.String()
	if s, ok := v.Key.(*ast.StringNode); ok {
		key = s.Value
	}
	kp := key
	if path != "" {
		kp = path + "." + key
	}
	pos[kp] = v.Key.GetToken().Position
	switch {
	case t == reflect.TypeFor[time.Time]() || t.Kind() == reflect.Interface:
		return
	case t.Kind() == reflect.Map:
		checkNode(p, v.Value, kp, t.Elem(), pos)
	case t.Kind() == reflect.Struct:
		ft, ok := yamlField(t, key)
		if !ok {
			tk := v.Key.GetToken().Position
			p.list = append(p.list, &FieldError{Path: kp, Line: tk.Line, Column: tk.Column,
				Msg: fmt.Sprintf("unknown field %q", key)})
			return
		}
		checkNode(p, v.Value, kp, ft, pos)
	}
}

// yamlField returns the type of t's field whose yaml name is name.
func yamlField(t reflect.Type, name string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == name {
			return f.Type, true
		}
	}
	return nil, false
}

// MarshalDocument encodes doc as YAML that ParseDocument reads back to the same flags.
func MarshalDocument(doc *Document) ([]byte, error) {
	b, err := yaml.MarshalWithOptions(doc, yaml.IndentSequence(true))
	if err != nil {
		return nil, fmt.Errorf("encode flags: %w", err)
	}
	return b, nil
}
