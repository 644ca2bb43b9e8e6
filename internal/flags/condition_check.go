package flags

import "fmt"

// condition checks that the operator is known and its value has the shape it needs.
func (p *problems) condition(at string, c *Condition) {
	if c.Attribute == "" {
		p.add(at+".attribute", "a condition needs an attribute")
	}
	switch c.Op {
	case OpEquals, OpNotEquals:
		if !isScalar(c.Value) {
			p.add(at+".value", "%s needs a string, number or bool", c.Op)
		}
	case OpOneOf, OpNotOneOf:
		list, ok := c.Value.([]any)
		if !ok || len(list) == 0 {
			p.add(at+".value", "%s needs a non-empty list", c.Op)
		}
		for i, v := range list {
			if !isScalar(v) {
				p.add(fmt.Sprintf("%s.value[%d]", at, i), "%v is not a string, number or bool", v)
			}
		}
	case OpStartsWith, OpEndsWith, OpContains:
		if _, ok := c.Value.(string); !ok {
			p.add(at+".value", "%s needs a string", c.Op)
		}
	case OpLT, OpLE, OpGT, OpGE:
		if _, ok := toFloat(c.Value); !ok {
			p.add(at+".value", "%s needs a number", c.Op)
		}
	case OpSemverLT, OpSemverLE, OpSemverGT, OpSemverGE, OpSemverEQ:
		s, _ := c.Value.(string)
		if _, ok := parseVersion(s); !ok {
			p.add(at+".value", "%s needs a semantic version such as 1.4.0, got %v", c.Op, c.Value)
		}
	default:
		p.add(at+".op", "unknown operator %q", c.Op)
	}
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, bool:
		return true
	}
	_, ok := toFloat(v)
	return ok
}

// Normalize converts the numbers in f's variant values and condition values to float64 and
// nested mappings to map[string]any, the shapes JSON decoding produces and Evaluate expects.
// YAML decoding and Go callers may produce other integer types.
func Normalize(f *Flag) {
	for k, v := range f.Variants {
		f.Variants[k] = normalizeValue(v)
	}
	for i := range f.Rules {
		normalizeConditions(f.Rules[i].Conditions)
	}
}

// NormalizeSegment is Normalize for a segment.
func NormalizeSegment(s *Segment) { normalizeConditions(s.Conditions) }

func normalizeConditions(cs []Condition) {
	for i := range cs {
		cs[i].Value = normalizeValue(cs[i].Value)
	}
}

func normalizeValue(v any) any {
	if f, ok := toFloat(v); ok {
		return f
	}
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeValue(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalizeValue(e)
		}
		return out
	}
	return v
}
