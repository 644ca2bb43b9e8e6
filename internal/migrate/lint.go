package migrate

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	pg "github.com/pganalyze/pg_query_go/v6"
	"github.com/wasilibs/go-pgquery/parser"
)

// Finding is one lint result.
type Finding struct {
	Rule    string // a Rules id, or "syntax"
	File    string
	Line    int
	Version int
	Phase   Phase
	Message string // what is wrong and the safe alternative
	// Override is the migration's lint-override for Rule; a finding with one does not block
	// but is reported so the deployment can record it.
	Override *Override
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Message)
	if f.Override != nil {
		s += " (overridden: " + f.Override.Reason + ")"
	}
	return s
}

// Blocks reports whether the finding refuses a deployment: it carries no override and its
// rule is not a style rule (those are warnings).
func (f Finding) Blocks() bool { return f.Override == nil && !f.Style() }

// Style reports whether the finding's rule is a style rule, a warning that never blocks.
func (f Finding) Style() bool { return ruleByID[f.Rule].Style }

// Blocking returns the findings that block (Finding.Blocks).
func Blocking(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Blocks() {
			out = append(out, f)
		}
	}
	return out
}

// RuleSyntax is the rule id of malformed SQL; it cannot be overridden.
const RuleSyntax = "syntax"

// Lint checks migs (in version order) as PostgreSQL and returns every finding, in file order.
// It is safe for concurrent use.
func Lint(migs []Migration) []Finding {
	l := linter{notNullChecks: map[string]colRef{}, validated: map[colRef]bool{}}
	var out []Finding
	for _, m := range migs {
		out = append(out, l.migration(m)...)
	}
	return out
}

type colRef struct{ table, column string }

type linter struct {
	notNullChecks map[string]colRef // NOT VALID CHECK (col IS NOT NULL) by constraint name
	validated     map[colRef]bool   // columns with a validated IS NOT NULL check
}

// lintCtx is the state of one migration being linted.
type lintCtx struct {
	*linter
	m          Migration
	phase      Phase
	stmt       Statement
	created    map[string]bool // tables created earlier in this section
	notValid   map[string]bool // constraints added NOT VALID earlier in this section
	strongLock int             // line of the first statement taking a strong lock, 0 if none
	heavy      int             // line of the first statement scanning or rewriting under one
	setsLock   bool            // a SET lock_timeout statement
	setsStmt   bool            // a SET statement_timeout statement
	found      []Finding
}

func (l *linter) migration(m Migration) []Finding {
	var found []Finding
	for _, sec := range []*Section{m.Expand, m.Contract, m.Down} {
		if sec == nil {
			continue
		}
		c := &lintCtx{linter: l, m: m, phase: sec.Phase, created: map[string]bool{}, notValid: map[string]bool{}}
		c.section(sec)
		found = append(found, c.found...)
	}
	for i := range found {
		for j, o := range m.Overrides {
			if o.Rule == found[i].Rule {
				found[i].Override = &m.Overrides[j]
			}
		}
	}
	return found
}

// section lints one part: parsed whole, its statements at the parser's own boundaries.
func (c *lintCtx) section(sec *Section) {
	s, err := parseSection(sec)
	if err != nil {
		c.stmt = Statement{SQL: sec.SQL, Line: sec.SQLLine}
		c.syntax(err)
		return
	}
	c.boundaries(sec.Statements, s)
	if c.phase == PhaseDown {
		return
	}
	c.identifiers(s)
	for _, st := range s.stmts {
		c.stmt = st.Statement
		c.node(st.node)
	}
	c.lockTimeout()
	c.statementTimeout()
}

func (c *lintCtx) syntax(err error) {
	line, msg := c.stmt.Line, err.Error()
	var pe *parser.Error
	if errors.As(err, &pe) && pe.Cursorpos > 0 {
		line += linesBefore(c.stmt.SQL, pe.Cursorpos-1)
	}
	c.found = append(c.found, Finding{Rule: RuleSyntax, File: c.m.File, Line: line, Version: c.m.Version,
		Phase: c.phase, Message: msg})
}

// linesBefore counts the newlines before the pos-th character of s.
func linesBefore(s string, pos int) int {
	n := 0
	for i := 0; i < len(s) && pos > 0; pos-- {
		if s[i] == '\n' {
			n++
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return n
}

// flag records a finding for rule at the current statement, unless the rule does not apply
// to the current phase.
func (c *lintCtx) flag(rule, format string, args ...any) {
	r := ruleByID[rule]
	if r.ExpandOnly && c.phase != PhaseExpand {
		return
	}
	c.found = append(c.found, Finding{Rule: rule, File: c.m.File, Line: c.stmt.Line, Version: c.m.Version,
		Phase: c.phase, Message: fmt.Sprintf(format, args...)})
	if heavyRules[rule] && c.heavy == 0 {
		c.heavy = c.stmt.Line
	}
}

func (c *lintCtx) strong() {
	if c.strongLock == 0 {
		c.strongLock = c.stmt.Line
	}
}

func (c *lintCtx) lockTimeout() {
	lt := c.m.LockTimeout
	switch {
	case c.strongLock == 0:
	case lt != nil && *lt == 0:
		c.stmt.Line = c.strongLock
		c.flag("lock-timeout-missing", "lock_timeout 0 lets this statement queue every query on the table behind it for as long as it waits; set -- +cutover lock_timeout 2s and let the runner retry")
	case lt == nil && !c.setsLock:
		c.stmt.Line = c.strongLock
		c.flag("lock-timeout-missing", "this statement takes a lock that blocks reads or writes, and every query on the table queues behind it while it waits; state the bound with -- +cutover lock_timeout 2s (the runner retries on timeout)")
	}
}

func relName(rv *pg.RangeVar) string {
	if rv == nil {
		return ""
	}
	schema := rv.GetSchemaname()
	if schema == "" {
		schema = "public" // the default search_path: an unqualified name and public.name are one table
	}
	return strings.ToLower(schema + "." + rv.GetRelname())
}
