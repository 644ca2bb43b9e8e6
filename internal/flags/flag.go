// Package flags owns cutover's feature flags: their model, validation, a pure evaluator, YAML
// import and export (flags as code), an audited Manager over a Store, and the OFREP HTTP
// handler with its server-sent change events. Its Service is what a daemon runs: the Manager,
// the SDK tokens that may evaluate, scheduled rollouts, one flag's YAML and a Run loop that
// wakes OFREP watchers as rollout steps come due. Percentage splits and rollouts bucket users
// with package bucket, the same hash the proxy uses for sticky canaries.
//
// It must not know about SQL, the control API's routes or the CLI: persistence is the Store
// and TokenStore interfaces (the daemon provides the SQLite ones), and the control API calls
// Service methods through a thin adapter in the daemon that converts types and errors.
package flags

import "time"

// Type is a flag's value type.
type Type string

// The flag types: every variant of a flag holds a value of its type.
const (
	Boolean Type = "boolean"
	String  Type = "string"
	Number  Type = "number" // JSON numbers, held as float64
	Object  Type = "object" // JSON objects, held as map[string]any
)

// Flag is one feature flag. Evaluation order: a disabled flag serves DefaultVariant (reason
// DISABLED); otherwise the first Rule whose conditions and segments all match decides; then
// Rollout, when set; then DefaultVariant. A Flag is a value: the Manager never shares one it
// stores with a caller, so callers may modify what they receive.
type Flag struct {
	Key         string `json:"key" yaml:"key"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	Type        Type   `json:"type" yaml:"type"`
	// Variants maps a variant name to its value (bool, string, float64 or map[string]any).
	Variants       map[string]any `json:"variants" yaml:"variants"`
	DefaultVariant string         `json:"default_variant" yaml:"default_variant"`
	Enabled        bool           `json:"enabled" yaml:"enabled"`
	// Salt is appended to Key to form the bucketing salt; change it to reshuffle users.
	Salt    string   `json:"salt,omitempty" yaml:"salt,omitempty"`
	Rules   []Rule   `json:"rules,omitempty" yaml:"rules,omitempty"`
	Rollout *Rollout `json:"rollout,omitempty" yaml:"rollout,omitempty"`
}

// Rule matches when all its Conditions and all its named Segments match. Its outcome is
// either Variant or a Split (exactly one of them).
type Rule struct {
	Name       string      `json:"name,omitempty" yaml:"name,omitempty"`
	Segments   []string    `json:"segments,omitempty" yaml:"segments,omitempty"`
	Conditions []Condition `json:"conditions,omitempty" yaml:"conditions,omitempty"`
	Variant    string      `json:"variant,omitempty" yaml:"variant,omitempty"`
	Split      []Weight    `json:"split,omitempty" yaml:"split,omitempty"`
	// SplitTotal is what the split's weights must sum to; 0 means 100.
	SplitTotal int `json:"split_total,omitempty" yaml:"split_total,omitempty"`
}

// Weight is one variant's share of a split. Buckets are handed out in list order, so when a
// share grows at the expense of the next one, users only move from the latter to the former.
type Weight struct {
	Variant string `json:"variant" yaml:"variant"`
	Weight  int    `json:"weight" yaml:"weight"`
}

// Condition compares one context attribute with Value. Attribute "targetingKey" is the
// targeting key. A missing attribute never matches, not even for the negated operators.
// Values of different types are unequal; the string, numeric and semver operators need a
// string, number or version-string attribute and do not match anything else.
type Condition struct {
	Attribute string `json:"attribute" yaml:"attribute"`
	Op        Op     `json:"op" yaml:"op"`
	// Value is a string, number or bool; a list of them for one_of and not_one_of; a
	// version string such as "1.4.0" for the semver operators.
	Value any `json:"value" yaml:"value"`
}

// Op is a condition's operator.
type Op string

// The operators.
const (
	OpEquals     Op = "equals"
	OpNotEquals  Op = "not_equals"
	OpOneOf      Op = "one_of"
	OpNotOneOf   Op = "not_one_of"
	OpStartsWith Op = "starts_with"
	OpEndsWith   Op = "ends_with"
	OpContains   Op = "contains"
	OpLT         Op = "lt"
	OpLE         Op = "le"
	OpGT         Op = "gt"
	OpGE         Op = "ge"
	OpSemverLT   Op = "semver_lt"
	OpSemverLE   Op = "semver_le"
	OpSemverGT   Op = "semver_gt"
	OpSemverGE   Op = "semver_ge"
	OpSemverEQ   Op = "semver_eq"
)

// Rollout serves Variant to a growing share of the users that no rule matched. The share at
// time t is the Percent of the last step with At <= t (0 before the first). A halted rollout
// stays at the share it had at HaltedAt.
type Rollout struct {
	Variant  string     `json:"variant" yaml:"variant"`
	Steps    []Step     `json:"steps" yaml:"steps"`
	Halted   bool       `json:"halted,omitempty" yaml:"halted,omitempty"`
	HaltedAt *time.Time `json:"halted_at,omitempty" yaml:"halted_at,omitempty"`
}

// Step is one point of a rollout schedule: from At on, Percent (0-100, resolution 0.01).
type Step struct {
	At      time.Time `json:"at" yaml:"at"`
	Percent float64   `json:"percent" yaml:"percent"`
}

// Percent returns the rollout's share at now, honouring Halted.
func (r *Rollout) Percent(now time.Time) float64 {
	if r.Halted && r.HaltedAt != nil && r.HaltedAt.Before(now) {
		now = *r.HaltedAt
	}
	p := 0.0
	for _, s := range r.Steps {
		if s.At.After(now) {
			break
		}
		p = s.Percent
	}
	return p
}

// NextStep returns the time of the first step after now, and false when there is none or the
// rollout is halted.
func (r *Rollout) NextStep(now time.Time) (time.Time, bool) {
	if r.Halted {
		return time.Time{}, false
	}
	for _, s := range r.Steps {
		if s.At.After(now) {
			return s.At, true
		}
	}
	return time.Time{}, false
}

// Segment is a named, reusable list of conditions ("internal users"), all of which must match.
type Segment struct {
	Name        string      `json:"name" yaml:"name"`
	Description string      `json:"description,omitempty" yaml:"description,omitempty"`
	Conditions  []Condition `json:"conditions" yaml:"conditions"`
}
