package flags

import (
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/bucket"
)

// Reason says why an evaluation produced its value (OpenFeature's resolution reasons).
type Reason string

// The reasons.
const (
	ReasonStatic         Reason = "STATIC"          // a flag with no rules and no rollout
	ReasonTargetingMatch Reason = "TARGETING_MATCH" // a rule chose the variant
	ReasonSplit          Reason = "SPLIT"           // a split or rollout bucketed the user
	ReasonDisabled       Reason = "DISABLED"        // the flag is off: default variant
	ReasonDefault        Reason = "DEFAULT"         // nothing matched: default variant
	ReasonError          Reason = "ERROR"           // see ErrorCode
)

// ErrorCode says why an evaluation failed (OpenFeature's error codes).
type ErrorCode string

// The error codes.
const (
	CodeFlagNotFound        ErrorCode = "FLAG_NOT_FOUND"
	CodeTargetingKeyMissing ErrorCode = "TARGETING_KEY_MISSING"
	CodeParseError          ErrorCode = "PARSE_ERROR"
	CodeTypeMismatch        ErrorCode = "TYPE_MISMATCH"
	CodeInvalidContext      ErrorCode = "INVALID_CONTEXT"
	CodeGeneral             ErrorCode = "GENERAL"
)

// Result is the outcome of one evaluation. On error, Reason is ERROR, ErrorCode and
// ErrorDetails say why, and Value is nil (the caller falls back to its code default).
type Result struct {
	Value        any
	Variant      string
	Reason       Reason
	ErrorCode    ErrorCode
	ErrorDetails string
}

// Segments holds the named segments rules refer to.
type Segments map[string]Segment

// Evaluate evaluates f for ec at now. It is pure (no clock, no I/O, no randomness), safe for
// concurrent use, and does not allocate unless it fails or buckets with a long salt. A rule
// naming a segment missing from segs does not match.
func Evaluate(f *Flag, segs Segments, ec *EvalContext, now time.Time) Result {
	if !f.Enabled {
		return f.serve(f.DefaultVariant, ReasonDisabled)
	}
	for i := range f.Rules {
		r := &f.Rules[i]
		if !r.matches(segs, ec) {
			continue
		}
		if len(r.Split) == 0 {
			return f.serve(r.Variant, ReasonTargetingMatch)
		}
		if ec.TargetingKey == "" {
			return missingKey(f.Key)
		}
		return f.serve(r.pick(bucket.Of(f.Key+f.Salt, ec.TargetingKey)), ReasonSplit)
	}
	if ro := f.Rollout; ro != nil {
		switch p := ro.Percent(now); {
		case p >= 100:
			return f.serve(ro.Variant, ReasonSplit)
		case p > 0:
			if ec.TargetingKey == "" {
				return missingKey(f.Key)
			}
			if bucket.In(f.Key+f.Salt, ec.TargetingKey, p) {
				return f.serve(ro.Variant, ReasonSplit)
			}
			return f.serve(f.DefaultVariant, ReasonSplit)
		}
	}
	if len(f.Rules) == 0 && f.Rollout == nil {
		return f.serve(f.DefaultVariant, ReasonStatic)
	}
	return f.serve(f.DefaultVariant, ReasonDefault)
}

// matches reports whether all the rule's segments and conditions match.
func (r *Rule) matches(segs Segments, ec *EvalContext) bool {
	for _, name := range r.Segments {
		s, ok := segs[name]
		if !ok || !matchAll(s.Conditions, ec) {
			return false
		}
	}
	return matchAll(r.Conditions, ec)
}

// pick maps a bucket onto the split: bucket b lies at b*total/Count on the weight line.
func (r *Rule) pick(b uint32) string {
	total := r.SplitTotal
	if total <= 0 {
		total = 100
	}
	x := uint64(b) * uint64(total) / bucket.Count
	cum := uint64(0)
	for _, w := range r.Split {
		cum += uint64(max(w.Weight, 0))
		if x < cum {
			return w.Variant
		}
	}
	return r.Split[len(r.Split)-1].Variant // unreachable for a valid rule
}

// serve returns variant name's value with reason, or an error when the stored flag is broken.
func (f *Flag) serve(name string, reason Reason) Result {
	v, ok := f.Variants[name]
	if !ok {
		return fail(CodeGeneral, fmt.Sprintf("flag %q: variant %q is not defined", f.Key, name))
	}
	if !hasType(f.Type, v) {
		return fail(CodeTypeMismatch, fmt.Sprintf("flag %q: variant %q is not a %s", f.Key, name, f.Type))
	}
	return Result{Value: v, Variant: name, Reason: reason}
}

// hasType reports whether v is a value of type t.
func hasType(t Type, v any) bool {
	switch v.(type) {
	case bool:
		return t == Boolean
	case string:
		return t == String
	case float64:
		return t == Number
	case map[string]any:
		return t == Object
	}
	return false
}

func missingKey(key string) Result {
	return fail(CodeTargetingKeyMissing, fmt.Sprintf("flag %q splits users by targeting key, and the context has none", key))
}

func fail(code ErrorCode, details string) Result {
	return Result{Reason: ReasonError, ErrorCode: code, ErrorDetails: details}
}
