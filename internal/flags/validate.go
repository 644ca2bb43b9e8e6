package flags

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every *ValidationError.
var ErrInvalid = errors.New("invalid flag configuration")

// FieldError is one problem with one field, such as "flags[2].rules[0].split: weights sum to
// 90, want 100". Line and Column (1-based) are set when the input was a YAML file.
type FieldError struct {
	Path   string
	Line   int
	Column int
	Msg    string
}

// Error formats the error as "line:col: path: msg" (without the position when unknown).
func (e *FieldError) Error() string {
	s := e.Msg
	if e.Path != "" {
		s = e.Path + ": " + s
	}
	if e.Line > 0 {
		s = fmt.Sprintf("%d:%d: %s", e.Line, e.Column, s)
	}
	return s
}

// ValidationError carries every problem found; nothing was changed when one is returned.
type ValidationError struct {
	Errors []*FieldError
}

// Error lists every field error, one per line.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fe.Error()
	}
	return "invalid flag configuration:\n" + strings.Join(parts, "\n")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// problems collects field errors under a path prefix.
type problems struct{ list []*FieldError }

func (p *problems) add(path, format string, args ...any) {
	p.list = append(p.list, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil or a *ValidationError with everything collected.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Errors: p.list}
}

// MaxFlagBytes bounds a stored flag or segment, measured as the JSON the store holds: every
// evaluation and every OFREP bulk answer carries it.
const MaxFlagBytes = 64 << 10

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func (p *problems) flag(at string, f *Flag, segs Segments) {
	p.size(at, "flag", f)
	if !nameRE.MatchString(f.Key) {
		p.add(at+"key", "%q is not a flag key (letters, digits, '.', '_', '-'; at most 128)", f.Key)
	}
	typeOK := true
	switch f.Type {
	case Boolean, String, Number, Object:
	default:
		typeOK = false
		p.add(at+"type", "%q is not one of boolean, string, number, object", f.Type)
	}
	if len(f.Variants) == 0 {
		p.add(at+"variants", "a flag needs at least one variant")
	}
	for _, name := range slices.Sorted(maps.Keys(f.Variants)) {
		v := f.Variants[name]
		if !nameRE.MatchString(name) {
			p.add(at+"variants."+name, "%q is not a variant name", name)
		}
		if typeOK && !hasType(f.Type, v) {
			p.add(at+"variants."+name, "value %v is not a %s", v, f.Type)
		}
	}
	p.variant(at+"default_variant", f, f.DefaultVariant)
	for i := range f.Rules {
		p.rule(fmt.Sprintf("%srules[%d]", at, i), f, &f.Rules[i], segs)
	}
	if f.Rollout != nil {
		p.rollout(at+"rollout", f, f.Rollout)
	}
}

func (p *problems) variant(path string, f *Flag, name string) {
	if _, ok := f.Variants[name]; !ok {
		p.add(path, "variant %q is not defined", name)
	}
}

func (p *problems) rule(at string, f *Flag, r *Rule, segs Segments) {
	for i, s := range r.Segments {
		if _, ok := segs[s]; !ok {
			p.add(fmt.Sprintf("%s.segments[%d]", at, i), "segment %q is not defined", s)
		}
	}
	for i := range r.Conditions {
		p.condition(fmt.Sprintf("%s.conditions[%d]", at, i), &r.Conditions[i])
	}
	switch {
	case r.Variant != "" && len(r.Split) > 0:
		p.add(at, "a rule has either a variant or a split, not both")
	case r.Variant != "":
		p.variant(at+".variant", f, r.Variant)
	case len(r.Split) == 0:
		p.add(at, "a rule needs a variant or a split")
	default:
		p.split(at, f, r)
	}
}

func (p *problems) split(at string, f *Flag, r *Rule) {
	total, sum := r.SplitTotal, 0
	if total == 0 {
		total = 100
	}
	if total < 0 || total > 1_000_000 {
		p.add(at+".split_total", "%d is not between 1 and 1000000", r.SplitTotal)
	}
	for i, w := range r.Split {
		p.variant(fmt.Sprintf("%s.split[%d].variant", at, i), f, w.Variant)
		if w.Weight < 0 {
			p.add(fmt.Sprintf("%s.split[%d].weight", at, i), "weight %d is negative", w.Weight)
		}
		sum += w.Weight
	}
	if sum != total {
		p.add(at+".split", "weights sum to %d, want %d", sum, total)
	}
}

func (p *problems) rollout(at string, f *Flag, r *Rollout) {
	p.variant(at+".variant", f, r.Variant)
	if len(r.Steps) == 0 {
		p.add(at+".steps", "a rollout needs at least one step")
	}
	for i, s := range r.Steps {
		path := fmt.Sprintf("%s.steps[%d]", at, i)
		if s.At.IsZero() {
			p.add(path+".at", "a step needs a time")
		}
		if s.Percent < 0 || s.Percent > 100 || s.Percent != s.Percent {
			p.add(path+".percent", "%v is not between 0 and 100", s.Percent)
		}
		if i > 0 && !s.At.After(r.Steps[i-1].At) {
			p.add(path+".at", "steps must be in strictly increasing time order")
		}
		if i > 0 && s.Percent < r.Steps[i-1].Percent {
			p.add(path+".percent", "a rollout only grows (%v after %v)", s.Percent, r.Steps[i-1].Percent)
		}
	}
	if r.Halted && r.HaltedAt == nil {
		p.add(at+".halted_at", "a halted rollout needs halted_at, the time it stopped")
	}
}

// size reports a flag or segment whose JSON is over MaxFlagBytes. A value JSON cannot hold
// is reported where it is stored.
func (p *problems) size(at, what string, v any) {
	b, err := json.Marshal(v)
	if err == nil && len(b) > MaxFlagBytes {
		p.add(strings.TrimSuffix(at, "."), "the %s is %d bytes as JSON; the limit is %d", what, len(b), MaxFlagBytes)
	}
}

func (p *problems) segment(at string, s *Segment) {
	p.size(at, "segment", s)
	if !nameRE.MatchString(s.Name) {
		p.add(at+"name", "%q is not a segment name", s.Name)
	}
	if len(s.Conditions) == 0 {
		p.add(at+"conditions", "a segment needs at least one condition")
	}
	for i := range s.Conditions {
		p.condition(fmt.Sprintf("%sconditions[%d]", at, i), &s.Conditions[i])
	}
}
