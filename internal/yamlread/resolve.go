package yamlread

import (
	"reflect"

	"github.com/goccy/go-yaml/ast"
)

// minScalarBytes is what a scalar other than a string counts towards Limits.ExpandedBytes:
// the longest text a number takes when the decoder turns it into a mapping key.
const minScalarBytes = 24

// size is what a node stands for once its aliases are expanded.
type size struct {
	nodes, bytes int64
	height       int // levels of mappings and lists: 0 for a scalar
}

// plus is s and o side by side: their counts summed, the taller height.
func (s size) plus(o size) size {
	return size{nodes: s.nodes + o.nodes, bytes: s.bytes + o.bytes, height: max(s.height, o.height)}
}

// anchor is the latest definition of an anchor name; open while its node is being read.
type anchor struct {
	node ast.Node
	size size
	open bool
}

// resolver walks a document in order, replacing each alias by the node of the latest anchor
// of its name and measuring the expanded document as it goes. Each node is measured once:
// an alias reuses its anchor's size, so a document of n nodes is walked in O(n).
type resolver struct {
	lim     Limits
	anchors map[string]*anchor
	aliases int
}

// resolve returns n without anchors and aliases, and its expanded size. depth is n's level.
func (r *resolver) resolve(n ast.Node, depth int) (ast.Node, size, error) {
	if isNil(n) {
		return n, size{nodes: 1}, nil
	}
	switch v := n.(type) {
	case *ast.AnchorNode:
		return r.anchor(v, depth)
	case *ast.AliasNode:
		return r.alias(v, depth)
	case *ast.TagNode:
		val, s, err := r.resolve(v.Value, depth)
		v.Value = val
		return v, s, err
	case *ast.MappingKeyNode:
		val, s, err := r.resolve(v.Value, depth)
		v.Value = val
		return v, s, err
	case *ast.MappingNode:
		return r.mapping(v, v.Values, depth)
	case *ast.MappingValueNode: // a mapping of one entry
		return r.mapping(v, []*ast.MappingValueNode{v}, depth)
	case *ast.SequenceNode:
		return r.sequence(v, depth)
	}
	s := size{nodes: 1, bytes: scalarBytes(n)}
	if r.over(s) {
		return nil, size{}, r.overError(n, s)
	}
	return n, s, nil
}

// mapping resolves the entries of the mapping n.
func (r *resolver) mapping(n ast.Node, entries []*ast.MappingValueNode, depth int) (ast.Node, size, error) {
	if depth >= r.lim.Depth {
		return nil, size{}, errorAt(n, LimitDepth, "nested too deeply: more than %d levels", r.lim.Depth)
	}
	s := size{nodes: 1}
	for _, mv := range entries {
		es, err := r.entry(mv, depth+1)
		if err != nil {
			return nil, size{}, err
		}
		if s = s.plus(es); r.over(s) {
			return nil, size{}, r.overError(mv.Key, s)
		}
	}
	s.height++
	return n, s, nil
}

func (r *resolver) sequence(v *ast.SequenceNode, depth int) (ast.Node, size, error) {
	if depth >= r.lim.Depth {
		return nil, size{}, errorAt(v, LimitDepth, "nested too deeply: more than %d levels", r.lim.Depth)
	}
	s := size{nodes: 1}
	for i, item := range v.Values {
		val, is, err := r.resolve(item, depth+1)
		if err != nil {
			return nil, size{}, err
		}
		v.Values[i] = val
		if i < len(v.Entries) && v.Entries[i] != nil {
			v.Entries[i].Value = val
		}
		if s = s.plus(is); r.over(s) {
			return nil, size{}, r.overError(item, s)
		}
	}
	s.height++
	return v, s, nil
}

// entry resolves one "key: value" of a mapping at depth and returns the size of both.
func (r *resolver) entry(mv *ast.MappingValueNode, depth int) (size, error) {
	var s size
	if !isNil(mv.Key) {
		key, ks, err := r.resolve(mv.Key, depth)
		if err != nil {
			return size{}, err
		}
		k, ok := key.(ast.MapKeyNode)
		if !ok || !isScalar(k) {
			// A list or mapping as a key decodes to its printed form, longer than measured.
			return size{}, errorAt(mv.Key, "", "a key must be a scalar")
		}
		mv.Key, s = k, ks
	}
	val, vs, err := r.resolve(mv.Value, depth)
	if err != nil {
		return size{}, err
	}
	mv.Value = val
	return s.plus(vs), nil
}

// anchor reads the node an anchor names and records it under its name.
func (r *resolver) anchor(v *ast.AnchorNode, depth int) (ast.Node, size, error) {
	name := text(v.Name)
	if a := r.anchors[name]; a != nil && a.open {
		return nil, size{}, errorAt(v, "", "anchor &%s is defined again inside the node it names", name)
	}
	if isNil(v.Value) {
		return nil, size{}, errorAt(v, "", "anchor &%s names no node", name)
	}
	r.anchors[name] = &anchor{open: true}
	val, s, err := r.resolve(v.Value, depth)
	if err != nil {
		return nil, size{}, err
	}
	r.anchors[name] = &anchor{node: val, size: s}
	return val, s, nil
}

// alias returns the node of the latest anchor of its name defined before it.
func (r *resolver) alias(v *ast.AliasNode, depth int) (ast.Node, size, error) {
	name := text(v.Value)
	if r.aliases++; r.aliases > r.lim.Aliases {
		return nil, size{}, errorAt(v, LimitAliases, "more than %d aliases", r.lim.Aliases)
	}
	a := r.anchors[name]
	switch {
	case a == nil:
		return nil, size{}, errorAt(v, "", "alias *%s names no anchor defined before it", name)
	case a.open:
		return nil, size{}, errorAt(v, "", "alias *%s is inside the node its anchor names", name)
	case depth+a.size.height > r.lim.Depth:
		return nil, size{}, errorAt(v, LimitDepth, "nested too deeply: more than %d levels once *%s is expanded", r.lim.Depth, name)
	}
	return a.node, a.size, nil
}

// over reports whether s is past the limits on expanded values.
func (r *resolver) over(s size) bool {
	return s.nodes > r.lim.Nodes || s.bytes > r.lim.ExpandedBytes
}

// overError names the limit s is past, at n: the node whose value took it past.
func (r *resolver) overError(n ast.Node, s size) *Error {
	how := ""
	if r.aliases > 0 {
		how = " through aliases"
	}
	if s.nodes > r.lim.Nodes {
		return errorAt(n, LimitNodes, "document expands to more than %d values%s", r.lim.Nodes, how)
	}
	return errorAt(n, LimitExpandedBytes, "document expands to more than %d bytes of text%s", r.lim.ExpandedBytes, how)
}

// scalarBytes is what a scalar counts towards Limits.ExpandedBytes.
func scalarBytes(n ast.Node) int64 {
	switch v := n.(type) {
	case *ast.StringNode:
		return int64(len(v.Value))
	case *ast.LiteralNode:
		if v.Value != nil {
			return int64(len(v.Value.Value))
		}
		return 0
	}
	if tk := n.GetToken(); tk != nil {
		return int64(max(len(tk.Value), minScalarBytes))
	}
	return minScalarBytes
}

// isScalar reports whether a key, past its tags and "?", is a scalar.
func isScalar(n ast.Node) bool {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.MappingKeyNode:
			n = v.Value
		default:
			_, ok := n.(ast.ScalarNode)
			return ok || isNil(n)
		}
	}
}

// text is the token text of an anchor's or alias's name.
func text(n ast.Node) string {
	if isNil(n) || n.GetToken() == nil {
		return ""
	}
	return n.GetToken().Value
}

// isNil reports a missing node, typed or not.
func isNil(n ast.Node) bool {
	return n == nil || reflect.ValueOf(n).IsNil()
}
