package spec

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// Marshal writes a spec as YAML that Parse reads back to the same Service. Fields are written
// in declaration order; empty strings, false, empty lists and maps and nil sections are left
// out, while numbers and durations are always written, so that an explicit zero stays zero.
// Strategy.Type is not written: Parse derives it.
func Marshal(s *Service) ([]byte, error) {
	v, _ := yamlValue(reflect.ValueOf(s).Elem())
	out, err := yaml.MarshalWithOptions(v, yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		return nil, fmt.Errorf("marshal spec: %w", err)
	}
	return out, nil
}

// yamlValue converts v to plain values and ordered maps; ok is false for a value to leave out.
func yamlValue(v reflect.Value) (out any, ok bool) {
	switch {
	case v.Type() == durationType:
		return v.Interface().(Duration).String(), true
	case v.Type() == intOrPercentType:
		p, _ := v.Interface().(IntOrPercent).MarshalYAML()
		return p, true
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil, false
		}
		out, _ := yamlValue(v.Elem()) // a set section stays, even empty ("tcp: {}")
		return out, true
	case reflect.Struct:
		ms := yaml.MapSlice{}
		for _, f := range yamlFields(v.Type()) {
			if fv, ok := yamlValue(v.Field(f.index)); ok {
				ms = append(ms, yaml.MapItem{Key: f.name, Value: fv})
			}
		}
		return ms, len(ms) > 0
	case reflect.Slice:
		items := make([]any, v.Len())
		for i := range items {
			items[i], _ = yamlValue(v.Index(i))
		}
		return items, len(items) > 0
	case reflect.Map:
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		ms := make(yaml.MapSlice, len(keys))
		for i, k := range keys {
			ms[i] = yaml.MapItem{Key: yamlString(k), Value: yamlString(v.MapIndex(reflect.ValueOf(k)).String())}
		}
		return ms, len(ms) > 0
	case reflect.String:
		return yamlString(v.String()), v.String() != ""
	case reflect.Bool:
		return v.Bool(), v.Bool()
	case reflect.Int:
		return int(v.Int()), true
	case reflect.Float64:
		return plainNumber(strconv.FormatFloat(v.Float(), 'f', -1, 64)), true
	}
	return nil, false
}

// quoted is a string written in double quotes.
type quoted string

// MarshalYAML writes the string double-quoted, with Go escapes (a subset of YAML's).
func (q quoted) MarshalYAML() ([]byte, error) { return []byte(strconv.Quote(string(q))), nil }

// plainNumber is a number written as is, without an exponent ("0.0000001", not "1e-07").
type plainNumber string

// MarshalYAML writes the number unquoted.
func (n plainNumber) MarshalYAML() ([]byte, error) { return []byte(n), nil }

// yamlString returns s as it may be written plain, or quoted when YAML would read its plain
// form as something else ("1e3", ".inf", "? x", "8080" as a number).
func yamlString(s string) any {
	tks := lexer.Tokenize(s)
	if len(tks) == 1 && tks[0].Type == token.StringType && tks[0].Value == s {
		return s
	}
	return quoted(s)
}
