package spec

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

var (
	durationType     = reflect.TypeFor[Duration]()
	intOrPercentType = reflect.TypeFor[IntOrPercent]()
)

// decoder walks a YAML tree read by yamlread (limits checked, aliases resolved) against the
// Go types of a spec, filling them in and collecting every unknown field and type error with
// its path and position, instead of stopping at the first.
type decoder struct {
	pos     map[string]*token.Position // where each path's key (or list item) is
	present map[string]bool            // paths given a non-null value
	failed  map[string]bool            // paths with a decode error
	errs    Errors
}

func newDecoder() *decoder {
	return &decoder{
		pos:     map[string]*token.Position{},
		present: map[string]bool{},
		failed:  map[string]bool{},
	}
}

// fail records an error at path, positioned at n.
func (d *decoder) fail(path string, n ast.Node, format string, args ...any) {
	e := &FieldError{Path: path, Message: fmt.Sprintf(format, args...)}
	if p := position(n); p != nil {
		e.Line, e.Column = p.Line, p.Column
	} else if p := d.pos[path]; p != nil {
		e.Line, e.Column = p.Line, p.Column
	}
	d.failed[path] = true
	d.errs = append(d.errs, e)
}

// position returns where a node starts, or nil when it has no token.
func position(n ast.Node) *token.Position {
	if n == nil || reflect.ValueOf(n).IsNil() {
		return nil
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Position
	}
	return nil
}

// resolve strips tags; a "!!str" tag makes any scalar a string. The tree has no anchors or
// aliases left: yamlread resolved them.
func (d *decoder) resolve(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			if v.Start != nil && v.Start.Value == "!!str" && v.Value != nil && v.Value.GetToken() != nil {
				if _, isScalar := v.Value.(ast.ScalarNode); isScalar {
					tk := v.Value.GetToken()
					return &ast.StringNode{BaseNode: &ast.BaseNode{}, Token: tk, Value: tk.Value}
				}
			}
			n = v.Value
		default:
			return n
		}
	}
}

// isNull reports a missing value ("key:" or "key: ~").
func isNull(n ast.Node) bool {
	if n == nil || reflect.ValueOf(n).IsNil() {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// decode fills v from n; path names v in errors.
func (d *decoder) decode(path string, n ast.Node, v reflect.Value) {
	n = d.resolve(n)
	if v.Kind() == reflect.Pointer {
		d.decodePointer(path, n, v)
		return
	}
	if isNull(n) {
		return // a null value is the same as leaving the field out
	}
	d.present[path] = true
	switch {
	case v.Type() == durationType:
		dur, err := durationFromNode(n)
		d.set(path, n, v, reflect.ValueOf(dur), err)
	case v.Type() == intOrPercentType:
		p, err := intOrPercentFromNode(n)
		d.set(path, n, v, reflect.ValueOf(p), err)
	case v.Kind() == reflect.Struct:
		d.decodeStruct(path, n, v)
	case v.Kind() == reflect.Slice:
		d.decodeSlice(path, n, v)
	case v.Kind() == reflect.Map:
		d.decodeStringMap(path, n, v)
	case v.Kind() == reflect.String:
		s, err := stringFromNode(n)
		d.set(path, n, v, reflect.ValueOf(s), err)
	case v.Kind() == reflect.Int:
		i, err := intFromNode(n)
		d.set(path, n, v, reflect.ValueOf(i), err)
	case v.Kind() == reflect.Float64:
		f, err := floatFromNode(n)
		d.set(path, n, v, reflect.ValueOf(f), err)
	case v.Kind() == reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.fail(path, n, "must be true or false, not %s", describe(n))
			return
		}
		v.SetBool(b.Value)
	default:
		d.fail(path, n, "unsupported field type %s", v.Type())
	}
}

// set stores x in v, or records err.
func (d *decoder) set(path string, n ast.Node, v, x reflect.Value, err error) {
	if err != nil {
		d.fail(path, n, "%s", err.Error())
		return
	}
	v.Set(x.Convert(v.Type()))
}

// decodePointer allocates optional sections. A null section ("tcp:", "recreate:") is present and
// empty; a null or empty-mapping pause ("pause: {}") is a zero duration: wait for a promote.
func (d *decoder) decodePointer(path string, n ast.Node, v reflect.Value) {
	elem := v.Type().Elem()
	p := reflect.New(elem)
	switch {
	case elem == durationType && (isNull(n) || isEmptyMapping(n)):
	case elem.Kind() == reflect.Struct && elem != durationType && elem != intOrPercentType && isNull(n):
	case isNull(n):
		return
	default:
		d.decode(path, n, p.Elem())
	}
	d.present[path] = true
	v.Set(p)
}

func isEmptyMapping(n ast.Node) bool {
	m, ok := n.(*ast.MappingNode)
	return ok && len(m.Values) == 0
}

// mappingValues returns the entries of a mapping node, or false when n is not a mapping.
func mappingValues(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}, true
	}
	return nil, false
}

// key returns a mapping entry's key text, recording an error for keys a spec cannot have.
// A bad key does not mark the whole mapping as failed: its other fields are still checked.
func (d *decoder) key(path string, mv *ast.MappingValueNode) (string, bool) {
	failed := d.failed[path]
	defer func() { d.failed[path] = failed }()
	k := d.resolve(mv.Key)
	switch k := k.(type) {
	case *ast.MergeKeyNode:
		d.fail(path, k, "merge keys (<<) are not supported; repeat the fields instead")
		return "", false
	case *ast.StringNode:
		return k.Value, true
	case ast.ScalarNode:
		if !isNull(k) && k.GetToken() != nil {
			return k.GetToken().Value, true
		}
	}
	d.fail(path, mv.Key, "keys must be plain names, not %s", describe(k))
	return "", false
}

func (d *decoder) decodeStruct(path string, n ast.Node, v reflect.Value) {
	values, ok := mappingValues(n)
	if !ok {
		d.fail(path, n, "must be a mapping of fields, not %s", describe(n))
		return
	}
	fields := yamlFields(v.Type())
	for _, mv := range values {
		name, ok := d.key(path, mv)
		if !ok {
			continue
		}
		fp := joinPath(path, name)
		d.pos[fp] = position(mv.Key)
		f, ok := findField(fields, name)
		if !ok {
			d.fail(fp, mv.Key, "%s", unknownFieldMessage(name, fields))
			continue
		}
		d.decode(fp, mv.Value, v.Field(f.index))
	}
}

func (d *decoder) decodeSlice(path string, n ast.Node, v reflect.Value) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.fail(path, n, "must be a list, not %s", describe(n))
		return
	}
	if len(seq.Values) == 0 {
		return // an empty list is the same as none, so that JSON round trips are exact
	}
	out := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	for i, item := range seq.Values {
		ip := indexPath(path, i)
		d.pos[ip] = position(item)
		d.decode(ip, item, out.Index(i))
	}
	v.Set(out)
}

// decodeStringMap fills an env map. Values may be any scalar, kept as written ("8080", "true"),
// as docker compose does; a null value is the empty string.
func (d *decoder) decodeStringMap(path string, n ast.Node, v reflect.Value) {
	values, ok := mappingValues(n)
	if !ok {
		d.fail(path, n, "must be a mapping of names to values, not %s", describe(n))
		return
	}
	if len(values) == 0 {
		return
	}
	out := reflect.MakeMapWithSize(v.Type(), len(values))
	for _, mv := range values {
		name, ok := d.key(path, mv)
		if !ok {
			continue
		}
		fp := joinPath(path, name)
		d.pos[fp] = position(mv.Key)
		d.present[fp] = true
		val := d.resolve(mv.Value)
		s := ""
		switch val := val.(type) {
		case *ast.StringNode:
			s = val.Value
		case *ast.LiteralNode:
			s = val.Value.Value
		case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
			s = val.GetToken().Value
		default:
			if !isNull(val) {
				d.fail(fp, val, "must be a string, not %s", describe(val))
				continue
			}
		}
		out.SetMapIndex(reflect.ValueOf(name), reflect.ValueOf(s))
	}
	v.Set(out)
}

// stringFromNode reads a string; other scalars are refused so that "version: 1.10" does not
// silently become "1.1".
func stringFromNode(n ast.Node) (string, error) {
	switch n := n.(type) {
	case *ast.StringNode:
		return n.Value, nil
	case *ast.LiteralNode:
		return n.Value.Value, nil
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return "", fmt.Errorf("must be a string, not %s (quote it: \"%s\")", describe(n), n.GetToken().Value)
	}
	return "", fmt.Errorf("must be a string, not %s", describe(n))
}

// unknownFieldMessage names an unknown field and, when one is close, the field meant.
func unknownFieldMessage(name string, fields []fieldInfo) string {
	if len(fields) == 0 {
		return fmt.Sprintf("unknown field %q: this section takes no fields", name)
	}
	best, bestDist := "", 3
	for _, f := range fields {
		if dist := editDistance(strings.ToLower(name), f.name); dist < bestDist {
			best, bestDist = f.name, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field %q (did you mean %q?)", name, best)
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return fmt.Sprintf("unknown field %q (known: %s)", name, strings.Join(names, ", "))
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
