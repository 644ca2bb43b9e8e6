package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// ParseDuration reads a duration with a unit ("30s", "1m30s", "0s"). A bare number is refused:
// "30" could mean seconds or nanoseconds, and guessing wrong turns a drain timeout into nothing.
func ParseDuration(s string) (Duration, error) {
	if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		return 0, fmt.Errorf("duration %q has no unit: write it like \"%ss\" or \"1m30s\"", s, strings.TrimSpace(s))
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: write it like \"30s\" or \"1m30s\"", s)
	}
	return Duration(d), nil
}

// String renders the duration the way ParseDuration reads it ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string ("30s").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string ("30s"); numbers are refused.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("duration must be a string like \"30s\"")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration as a string ("30s").
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a duration string ("30s") for github.com/goccy/go-yaml's decoder.
func (d *Duration) UnmarshalYAML(n ast.Node) error {
	v, err := durationFromNode(n)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// durationFromNode reads a duration from a YAML scalar; a bare number is an error with a hint.
func durationFromNode(n ast.Node) (Duration, error) {
	switch n := n.(type) {
	case *ast.StringNode:
		return ParseDuration(n.Value)
	case *ast.IntegerNode, *ast.FloatNode:
		v := n.GetToken().Value
		return 0, fmt.Errorf("duration %s has no unit: write it like \"%ss\" or \"1m30s\"", v, v)
	}
	return 0, fmt.Errorf("must be a duration like \"30s\", not %s", describe(n))
}

// ParseIntOrPercent reads "25%" or "2". Negative values parse; Validate refuses them.
func ParseIntOrPercent(s string) (IntOrPercent, error) {
	num, pct := strings.CutSuffix(s, "%")
	v, err := strconv.Atoi(num)
	if err != nil {
		return IntOrPercent{}, fmt.Errorf("invalid count or percentage %q: write it like 2 or \"25%%\"", s)
	}
	return IntOrPercent{Value: v, Percent: pct}, nil
}

// String renders "25%" or "2".
func (p IntOrPercent) String() string {
	if p.Percent {
		return strconv.Itoa(p.Value) + "%"
	}
	return strconv.Itoa(p.Value)
}

// MarshalJSON writes a percentage as a string ("25%") and a count as a number (2).
func (p IntOrPercent) MarshalJSON() ([]byte, error) {
	if p.Percent {
		return json.Marshal(p.String())
	}
	return json.Marshal(p.Value)
}

// UnmarshalJSON reads a number (2) or a percentage string ("25%").
func (p *IntOrPercent) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*p = IntOrPercent{Value: n}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("must be an integer or a percentage like \"25%\"")
	}
	if !strings.HasSuffix(s, "%") {
		return fmt.Errorf("string %q must be a percentage like \"25%%\"", s)
	}
	v, err := ParseIntOrPercent(s)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// MarshalYAML writes a percentage as a string ("25%") and a count as an integer.
func (p IntOrPercent) MarshalYAML() (any, error) {
	if p.Percent {
		return p.String(), nil
	}
	return p.Value, nil
}

// UnmarshalYAML reads 2 or "25%" for github.com/goccy/go-yaml's decoder.
func (p *IntOrPercent) UnmarshalYAML(n ast.Node) error {
	v, err := intOrPercentFromNode(n)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// intOrPercentFromNode reads an integer node or a "N%" string node.
func intOrPercentFromNode(n ast.Node) (IntOrPercent, error) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		v, err := intFromNode(n)
		return IntOrPercent{Value: v}, err
	case *ast.StringNode:
		if !strings.HasSuffix(n.Value, "%") {
			return IntOrPercent{}, fmt.Errorf("string %q must be a percentage like \"25%%\" (or write a bare integer)", n.Value)
		}
		return ParseIntOrPercent(n.Value)
	}
	return IntOrPercent{}, fmt.Errorf("must be an integer or a percentage like \"25%%\", not %s", describe(n))
}

// intFromNode reads an integer node that fits an int.
func intFromNode(n ast.Node) (int, error) {
	in, ok := n.(*ast.IntegerNode)
	if !ok {
		return 0, fmt.Errorf("must be an integer, not %s", describe(n))
	}
	const maxInt = int64(^uint(0) >> 1)
	switch v := in.Value.(type) {
	case int64:
		if v > maxInt || v < -maxInt-1 {
			break
		}
		return int(v), nil
	case uint64:
		if v <= uint64(maxInt) {
			return int(v), nil
		}
	}
	return 0, fmt.Errorf("integer %s is out of range", in.GetToken().Value)
}

// floatFromNode reads a finite number; an integer is a number too ("max_error_rate: 0").
func floatFromNode(n ast.Node) (float64, error) {
	var f float64
	switch n := n.(type) {
	case *ast.FloatNode:
		f = n.Value
	case *ast.IntegerNode:
		i, err := intFromNode(n)
		if err != nil {
			return 0, err
		}
		f = float64(i)
	case *ast.StringNode:
		// The YAML library reads an exponent without a dot ("1e-07") as a string; a plain
		// (unquoted) one is still a number.
		v, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || n.GetToken() == nil || n.GetToken().Type != token.StringType {
			return 0, fmt.Errorf("must be a number, not %s", describe(n))
		}
		f = v
	case *ast.NanNode, *ast.InfinityNode:
		return 0, fmt.Errorf("must be a finite number, not %s", n.GetToken().Value)
	default:
		return 0, fmt.Errorf("must be a number, not %s", describe(n))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("must be a finite number, not %s", describe(n))
	}
	return f, nil
}

// describe names a node's kind for a type error ("a list", "the integer 3").
func describe(n ast.Node) string {
	switch n := n.(type) {
	case nil, *ast.NullNode:
		return "null"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode:
		return fmt.Sprintf("the string %q", n.Value)
	case *ast.LiteralNode:
		return "a block string"
	case *ast.IntegerNode:
		return "the integer " + n.GetToken().Value
	case *ast.FloatNode:
		return "the number " + n.GetToken().Value
	case *ast.BoolNode:
		return "the boolean " + n.GetToken().Value
	}
	if tk := n.GetToken(); tk != nil {
		return fmt.Sprintf("%q", tk.Value)
	}
	return "an unsupported value"
}
