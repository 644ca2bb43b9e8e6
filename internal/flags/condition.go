package flags

import "strings"

// EvalContext is the evaluation context of one request: the targeting key and the other
// attributes, as decoded from JSON (string, float64, bool, nil, []any, map[string]any; other
// Go number types are accepted too).
type EvalContext struct {
	TargetingKey string
	Attributes   map[string]any
}

// targetingKeyAttr is the attribute name that refers to EvalContext.TargetingKey.
const targetingKeyAttr = "targetingKey"

// lookup returns the attribute name, reporting false when it is absent.
func (ec *EvalContext) lookup(name string) (any, bool) {
	if name == targetingKeyAttr {
		return ec.TargetingKey, ec.TargetingKey != ""
	}
	v, ok := ec.Attributes[name]
	return v, ok && v != nil
}

// matchAll reports whether every condition matches.
func matchAll(conds []Condition, ec *EvalContext) bool {
	for i := range conds {
		if !conds[i].match(ec) {
			return false
		}
	}
	return true
}

// match evaluates the condition against ec.
func (c *Condition) match(ec *EvalContext) bool {
	attr, ok := ec.lookup(c.Attribute)
	if !ok {
		return false
	}
	switch c.Op {
	case OpEquals:
		return equal(attr, c.Value)
	case OpNotEquals:
		return !equal(attr, c.Value)
	case OpOneOf:
		return oneOf(attr, c.Value)
	case OpNotOneOf:
		return !oneOf(attr, c.Value)
	case OpStartsWith, OpEndsWith, OpContains:
		return matchString(c.Op, attr, c.Value)
	case OpLT, OpLE, OpGT, OpGE:
		a, okA := toFloat(attr)
		b, okB := toFloat(c.Value)
		return okA && okB && compareOK(c.Op, cmpFloat(a, b))
	case OpSemverLT, OpSemverLE, OpSemverGT, OpSemverGE, OpSemverEQ:
		return matchSemver(c.Op, attr, c.Value)
	}
	return false
}

func matchString(op Op, attr, value any) bool {
	a, okA := attr.(string)
	b, okB := value.(string)
	if !okA || !okB {
		return false
	}
	switch op {
	case OpStartsWith:
		return strings.HasPrefix(a, b)
	case OpEndsWith:
		return strings.HasSuffix(a, b)
	}
	return strings.Contains(a, b)
}

func matchSemver(op Op, attr, value any) bool {
	a, okA := attr.(string)
	b, okB := value.(string)
	if !okA || !okB {
		return false
	}
	va, okA := parseVersion(a)
	vb, okB := parseVersion(b)
	if !okA || !okB {
		return false
	}
	c := compareVersions(va, vb)
	if op == OpSemverEQ {
		return c == 0
	}
	return compareOK(Op(strings.TrimPrefix(string(op), "semver_")), c)
}

// compareOK reports whether a comparison result c satisfies lt, le, gt or ge.
func compareOK(op Op, c int) bool {
	switch op {
	case OpLT:
		return c < 0
	case OpLE:
		return c <= 0
	case OpGT:
		return c > 0
	case OpGE:
		return c >= 0
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func oneOf(attr, list any) bool {
	items, ok := list.([]any)
	if !ok {
		return false
	}
	for _, it := range items {
		if equal(attr, it) {
			return true
		}
	}
	return false
}

// equal compares scalars: strings with strings, bools with bools, numbers as float64.
func equal(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	x, okA := toFloat(a)
	y, okB := toFloat(b)
	return okA && okB && x == y
}

// toFloat converts any Go number to float64.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint:
		return float64(n), true
	}
	return 0, false
}
