package spec

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/cutover/cutover/internal/yamlread"
)

// Override applies `cutover deploy --set path=value --env KEY=VALUE` to a spec document and
// returns the new document. A path names a field the way the spec file does ("replicas",
// "strategy.rolling.max_surge", "run.env.DEBUG"); setting a field inside a section that is not
// in the document creates the section. The value of a text field is taken as written
// ("--set run.command=./app"); any other value is read as YAML ("--set replicas=3",
// "--set run.args=[a,b]"). An env entry sets run.env.KEY to VALUE as written; "KEY-" removes
// KEY from run.env (as kubectl does), an error when run.env has no KEY. A path to an
// unknown field, an entry without "=" and a value that is not YAML are errors, reported
// together; the result is not validated (Parse it). The document is read within Limits, as
// Parse reads it; comments are not kept and aliases are written out in full.
func Override(doc []byte, sets []string, env []string) ([]byte, error) {
	if len(sets) == 0 && len(env) == 0 {
		return doc, nil
	}
	parsed, err := yamlread.Parse(doc, Limits)
	if err != nil {
		return nil, fmt.Errorf("override: %w", Errors{readError(err)})
	}
	var root yaml.MapSlice
	if err := parsed.Decode(&root, yaml.UseOrderedMap()); err != nil {
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
		if k, ok := strings.CutSuffix(kv, "-"); ok && k != "" && !strings.Contains(k, "=") {
			var found bool
			if root, found = deletePath(root, []string{"run", "env", k}); !found {
				errs = append(errs, fmt.Errorf("--env %s: run.env has no %s to remove", kv, k))
			}
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			errs = append(errs, fmt.Errorf("--env %q: want KEY=VALUE, or KEY- to remove KEY", kv))
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
	if err := yamlread.Unmarshal([]byte(raw), &v, Limits, yaml.UseOrderedMap()); err != nil {
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

// deletePath removes m[segs[0]][segs[1]]...; found is false when it was not there.
func deletePath(m yaml.MapSlice, segs []string) (out yaml.MapSlice, found bool) {
	for i, item := range m {
		if fmt.Sprint(item.Key) != segs[0] {
			continue
		}
		if len(segs) == 1 {
			return append(m[:i:i], m[i+1:]...), true
		}
		child, ok := item.Value.(yaml.MapSlice)
		if !ok {
			return m, false
		}
		m[i].Value, found = deletePath(child, segs[1:])
		return m, found
	}
	return m, false
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
