package migrate

import (
	"strings"
)

// split cuts a section into statements at ';' outside string literals, quoted identifiers,
// comments, dollar quotes and parentheses. A CREATE TRIGGER / FUNCTION / PROCEDURE whose body is a
// BEGIN … END block (SQLite triggers, PostgreSQL BEGIN ATOMIC) is kept whole. firstLine is the
// file line of text's first byte. On an unterminated literal or comment it returns the line
// where it began and a message.
func split(text string, firstLine int) ([]Statement, int, string) {
	s := splitter{text: text, line: firstLine, start: -1}
	for s.i < len(text) {
		if msg := s.step(); msg != "" {
			return nil, s.errLine, msg
		}
	}
	s.flush(len(text))
	return s.out, 0, ""
}

type splitter struct {
	text      string
	i         int
	line      int // line of text[i]
	start     int // offset of the current statement's first token, -1 before it
	startLine int
	words     []string // leading words of the current statement (up to 6)
	blockBody bool     // statement may have a BEGIN … END body
	depth     int      // BEGIN/CASE … END nesting inside such a body
	parens    int      // open parentheses: a ';' inside them (CREATE RULE … DO ALSO (a; b)) ends nothing
	out       []Statement
	errLine   int
}

func (s *splitter) advance(n int) {
	for k := 0; k < n && s.i < len(s.text); k++ {
		if s.text[s.i] == '\n' {
			s.line++
		}
		s.i++
	}
}

func (s *splitter) mark() {
	if s.start < 0 {
		s.start, s.startLine = s.i, s.line
	}
}

func (s *splitter) step() string {
	t, c := s.text, s.text[s.i]
	switch {
	case c == '-' && strings.HasPrefix(t[s.i:], "--"):
		for s.i < len(t) && t[s.i] != '\n' {
			s.i++
		}
	case c == '/' && strings.HasPrefix(t[s.i:], "/*"):
		return s.blockComment()
	case c == '\'' || c == '"':
		s.mark()
		return s.quoted(c, c == '\'' && s.escapeString())
	case c == '$' && s.dollarTag() != "":
		s.mark()
		return s.dollarQuoted(s.dollarTag())
	case c == ';' && s.depth == 0 && s.parens == 0:
		s.flush(s.i)
		s.advance(1)
	case c == '(' || c == ')':
		s.mark()
		s.paren(c)
		s.advance(1)
	case isIdent(c):
		s.mark()
		s.word()
	case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		s.advance(1)
	default:
		s.mark()
		s.advance(1)
	}
	return ""
}

func (s *splitter) flush(end int) {
	if s.start >= 0 {
		if sql := strings.TrimSpace(s.text[s.start:end]); sql != "" {
			s.out = append(s.out, Statement{SQL: sql, Line: s.startLine})
		}
	}
	s.start, s.words, s.blockBody, s.depth, s.parens = -1, nil, false, 0, 0
}

// paren counts a parenthesis; a stray ')' is left to the parser to report.
func (s *splitter) paren(c byte) {
	switch {
	case c == '(':
		s.parens++
	case s.parens > 0:
		s.parens--
	}
}

func (s *splitter) blockComment() string {
	s.errLine = s.line
	nest := 0
	for s.i < len(s.text) {
		switch {
		case strings.HasPrefix(s.text[s.i:], "/*"):
			nest++
			s.advance(2)
		case strings.HasPrefix(s.text[s.i:], "*/"):
			nest--
			s.advance(2)
			if nest == 0 {
				return ""
			}
		default:
			s.advance(1)
		}
	}
	return "unterminated /* comment"
}

// escapeString reports whether the quote at i opens an E'…' string (backslash escapes).
func (s *splitter) escapeString() bool {
	if s.i == 0 || (s.text[s.i-1] != 'E' && s.text[s.i-1] != 'e') {
		return false
	}
	return s.i < 2 || !isIdent(s.text[s.i-2])
}

func (s *splitter) quoted(q byte, backslash bool) string {
	s.errLine = s.line
	s.advance(1)
	for s.i < len(s.text) {
		c := s.text[s.i]
		switch {
		case backslash && c == '\\':
			s.advance(2)
		case c == q && s.i+1 < len(s.text) && s.text[s.i+1] == q:
			s.advance(2)
		case c == q:
			s.advance(1)
			return ""
		default:
			s.advance(1)
		}
	}
	if q == '"' {
		return "unterminated quoted identifier"
	}
	return "unterminated string literal"
}

// dollarTag returns the $tag$ opening at i, or "" when i is not a dollar quote.
func (s *splitter) dollarTag() string {
	if s.i > 0 && isIdent(s.text[s.i-1]) {
		return ""
	}
	j := s.i + 1
	if j < len(s.text) && s.text[j] >= '0' && s.text[j] <= '9' {
		return "" // $1 is a parameter
	}
	for j < len(s.text) && isIdent(s.text[j]) {
		j++
	}
	if j < len(s.text) && s.text[j] == '$' {
		return s.text[s.i : j+1]
	}
	return ""
}

func (s *splitter) dollarQuoted(tag string) string {
	s.errLine = s.line
	s.advance(len(tag))
	end := strings.Index(s.text[s.i:], tag)
	if end < 0 {
		return "unterminated dollar-quoted string " + tag
	}
	s.advance(end + len(tag))
	return ""
}

func (s *splitter) word() {
	j := s.i
	for j < len(s.text) && (isIdent(s.text[j]) || s.text[j] == '$') {
		j++
	}
	w := strings.ToUpper(s.text[s.i:j])
	s.advance(j - s.i)
	if len(s.words) < 6 {
		s.words = append(s.words, w)
		s.blockBody = s.blockBody || s.words[0] == "CREATE" &&
			(w == "TRIGGER" || w == "FUNCTION" || w == "PROCEDURE")
	}
	if !s.blockBody || s.parens > 0 {
		return // a parameter named begin or end is no block
	}
	switch {
	case w == "BEGIN", w == "CASE" && s.depth > 0:
		s.depth++
	case w == "END" && s.depth > 0:
		s.depth--
	}
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
