package spec

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Override applies `cutover deploy --set path=value --env KEY=VALUE` to a spec document and
// returns the new document. A path names a field the way the spec file does ("replicas",
// "strategy.rolling.max_surge", "run.env.DEBUG"); setting a field inside a section that is not
// in the document creates the section. The value of a text field is taken as written
// ("--set run.command=./app"); any other value is read as YAML ("--set replicas=3",
// "--set run.args=[a,b]"). An env entry sets run.env.KEY to VALUE as written. A path to an
// unknown field, an entry without "=" and a value that is not YAML are errors, reported
// together; the result is not validated (Parse it). Comments and anchors are not kept.
func Override(doc []byte, sets []string, env []string) ([]byte, error) {
	if len(sets) == 0 && len(env) == 0 {
		return doc, nil
	}
	root0, ferr := parseDocument(doc)
	if ferr != nil {
		return nil, fmt.Errorf("override: %w", Errors{ferr})
	}
	if root0 != nil && newDecoder(root0).expandedSize(root0, map[string]int{}) >= maxNodes {
		// The YAML decoder below expands aliases without a limit ("billion laughs").
		return nil, fmt.Errorf("override: document expands to more than %d values through aliases", maxNodes)
	}
	var root yaml.MapSlice
	if err := yaml.UnmarshalWithOptions(doc, &root, yaml.UseOrderedMap()); err != nil {
		return nil, fmt.Errorf("override: read spec: %w", err)
	}
	var errs []error
	for _, set := range sets {
		path, raw, ok := strings.Cut(set, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("--set %q: want path=value", set))
			continue
		}
		segs, value, err := overrideValue(path, raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("--set %s: %w", path, err))
			continue
		}
		root = setPath(root, segs, value)
	}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			errs = append(errs, fmt.Errorf("--env %q: want KEY=VALUE", kv))
			continue
		}
		root = setPath(root, []string{"run", "env", k}, v)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out, err := yaml.MarshalWithOptions(quoteStrings(root), yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		return nil, fmt.Errorf("override: write spec: %w", err)
	}
	return out, nil
}

// overrideValue checks path against the spec's fields and reads raw as the leaf's value.
func overrideValue(path, raw string) ([]string, any, error) {
	if path == "" {
		return nil, nil, errors.New("empty path")
	}
	segs := strings.Split(path, ".")
	t := reflect.TypeFor[Service]()
	for i := 0; i < len(segs); i++ {
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t.Kind() == reflect.Map:
			// The rest is one key: env names are free-form here; Parse checks them.
			segs = append(segs[:i], strings.Join(segs[i:], "."))
			t = t.Elem()
			i = len(segs)
			continue
		case t.Kind() != reflect.Struct || t == durationType || t == intOrPercentType:
			return nil, nil, fmt.Errorf("%s is not a section: it has no field %q", strings.Join(segs[:i], "."), segs[i])
		}
		f, ok := findField(yamlFields(t), segs[i])
		if !ok {
			return nil, nil, errors.New(unknownFieldMessage(segs[i], yamlFields(t)))
		}
		t = t.Field(f.index).Type
	}
	if t.Kind() == reflect.String {
		return segs, raw, nil
	}
	var v any
	if err := yaml.UnmarshalWithOptions([]byte(raw), &v, yaml.UseOrderedMap()); err != nil {
		return nil, nil, fmt.Errorf("value %q is not YAML: %w", raw, err)
	}
	return segs, v, nil
}

// setPath sets m[segs[0]][segs[1]]... = v, creating or replacing mappings on the way.
func setPath(m yaml.MapSlice, segs []string, v any) yaml.MapSlice {
	for i, item := range m {
		if fmt.Sprint(item.Key) != segs[0] {
			continue
		}
		if len(segs) == 1 {
			m[i].Value = v
		} else {
			child, _ := item.Value.(yaml.MapSlice)
			m[i].Value = setPath(child, segs[1:], v)
		}
		return m
	}
	if len(segs) == 1 {
		return append(m, yaml.MapItem{Key: segs[0], Value: v})
	}
	return append(m, yaml.MapItem{Key: segs[0], Value: setPath(nil, segs[1:], v)})
}

// quoteStrings makes every string in v safe to write (see yamlString).
func quoteStrings(v any) any {
	switch v := v.(type) {
	case yaml.MapSlice:
		out := make(yaml.MapSlice, len(v))
		for i, item := range v {
			out[i] = yaml.MapItem{Key: quoteStrings(item.Key), Value: quoteStrings(item.Value)}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = quoteStrings(item)
		}
		return out
	case string:
		return yamlString(v)
	}
	return v
}

// expandedSize counts the values n stands for once aliases are expanded, up to maxNodes.
// sizes memoizes anchors by name; an alias to an anchor being counted (a cycle) counts as maxNodes.
func (d *decoder) expandedSize(n ast.Node, sizes map[string]int) int {
	if isNull(n) {
		return 1
	}
	total := 1
	switch v := n.(type) {
	case *ast.AliasNode:
		if v.Value == nil || v.Value.GetToken() == nil {
			return 1
		}
		name := v.Value.GetToken().Value
		if size, ok := sizes[name]; ok {
			return size
		}
		sizes[name] = maxNodes // in progress: a cycle reaches this
		size := d.expandedSize(d.anchors[name], sizes)
		sizes[name] = size
		return size
	case *ast.AnchorNode:
		return d.expandedSize(v.Value, sizes)
	case *ast.TagNode:
		return d.expandedSize(v.Value, sizes)
	case *ast.MappingNode:
		for _, mv := range v.Values {
			total += d.expandedSize(mv, sizes)
		}
	case *ast.MappingValueNode:
		total += d.expandedSize(v.Key, sizes) + d.expandedSize(v.Value, sizes)
	case *ast.SequenceNode:
		for _, item := range v.Values {
			total += d.expandedSize(item, sizes)
		}
	}
	return min(total, maxNodes)
}
