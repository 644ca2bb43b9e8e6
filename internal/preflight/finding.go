// Package preflight checks a service for production readiness before it ships: its spec (or
// compose service) and its Dockerfile against the deployment guides' checklists. Each rule
// yields findings with a severity, file:line and the fix; an override comment with a reason
// (# +cutover check-override RULE reason: ...) keeps a finding from blocking. It reads the
// files it is pointed at and runs nothing: migrations are linted by the function it is given,
// and the CLI prints.
package preflight

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
)

// Severity says whether a finding blocks.
type Severity string

// Severities: an error blocks (non-zero exit), a warning does not.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one rule a file breaks, where, and how to fix it.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix"`
	// Override is the reason an override comment gives; an overridden finding does not block.
	Override     string `json:"override,omitempty"`
	OverrideLine int    `json:"override_line,omitempty"`
}

// Blocks reports whether the finding fails the check.
func (f Finding) Blocks() bool { return f.Severity == Error && f.Override == "" }

// Blocking counts the findings that fail the check.
func Blocking(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Blocks() {
			n++
		}
	}
	return n
}

// Sort orders findings by file, line and rule.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Rule, b.Rule))
	})
}

// overrideRE matches "# +cutover check-override RULE reason: TEXT" anywhere on a line.
var overrideRE = regexp.MustCompile(`#\s*\+cutover\s+check-override\s+(\S+)(?:\s+reason:\s*(.*))?$`)

// override is one override comment of a file.
type override struct {
	rule, reason string
	line         int
}

// overrides reads the override comments of a file's text.
func overrides(text string) []override {
	var out []override
	for i, line := range strings.Split(text, "\n") {
		if m := overrideRE.FindStringSubmatch(strings.TrimRight(line, "\r")); m != nil {
			out = append(out, override{rule: m[1], reason: strings.TrimSpace(m[2]), line: i + 1})
		}
	}
	return out
}

// applyOverrides marks the findings of file that its override comments cover, and adds a
// finding for each override without a reason (it overrides nothing).
func applyOverrides(file, text string, fs []Finding) []Finding {
	for _, o := range overrides(text) {
		if o.reason == "" {
			fs = append(fs, Finding{Rule: "check/override-without-reason", Severity: Error, File: file, Line: o.line,
				Message: "override of " + o.rule + " gives no reason", Fix: "write why the rule does not apply: # +cutover check-override " + o.rule + " reason: ..."})
			continue
		}
		for i := range fs {
			if fs[i].File == file && fs[i].Rule == o.rule {
				fs[i].Override, fs[i].OverrideLine = o.reason, o.line
			}
		}
	}
	return fs
}
