package migrate

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	pgquery "github.com/wasilibs/go-pgquery"
)

// RuleSplit is the rule id of a part that the runner would cut into statements at other
// places than PostgreSQL's parser does; like RuleSyntax, it cannot be overridden.
const RuleSplit = "statement-split"

// maxIdentifier is PostgreSQL's longest identifier in bytes (NAMEDATALEN - 1); a longer one
// is truncated, with only a NOTICE.
const maxIdentifier = 63

// parsed is one statement at the boundaries PostgreSQL's parser gives it.
type parsed struct {
	Statement
	node *pg.Node
}

// section is a part as PostgreSQL's parser and scanner see it.
type section struct {
	text   string
	base   int // file line of text's first byte
	stmts  []parsed
	tokens []*pg.ScanToken
}

// parseSection parses sec's text whole, so that statements end where the parser says
// (a ';' inside CREATE RULE … DO ALSO (a; b) or a BEGIN ATOMIC body ends nothing, a parameter
// named begin opens nothing), and scans it for its tokens.
func parseSection(sec *Section) (*section, error) {
	s := &section{text: sec.SQL, base: sec.SQLLine}
	tree, err := pgquery.Parse(s.text)
	if err != nil {
		return nil, err
	}
	scan, err := pgquery.Scan(s.text)
	if err != nil {
		return nil, err
	}
	s.tokens = scan.GetTokens()
	for _, raw := range tree.GetStmts() {
		start, end := int(raw.GetStmtLocation()), len(s.text)
		if n := int(raw.GetStmtLen()); n > 0 {
			end = min(start+n, len(s.text))
		}
		if tok := s.firstToken(start); tok >= 0 && tok < end {
			start = tok
		}
		sql := strings.TrimSpace(s.text[start:end])
		s.stmts = append(s.stmts, parsed{Statement: Statement{SQL: sql, Line: s.lineOf(start)}, node: raw.GetStmt()})
	}
	return s, nil
}

// firstToken returns the offset of the first token at or after off that is not a comment.
func (s *section) firstToken(off int) int {
	for _, t := range s.tokens {
		if int(t.GetStart()) >= off && t.GetToken() != pg.Token_SQL_COMMENT && t.GetToken() != pg.Token_C_COMMENT {
			return int(t.GetStart())
		}
	}
	return -1
}

func (s *section) lineOf(off int) int {
	return s.base + strings.Count(s.text[:off], "\n")
}

// boundaries flags the first statement where the runner's split (what it will send to the
// database, one statement at a time) differs from the parser's.
func (c *lintCtx) boundaries(runner []Statement, s *section) {
	for i := 0; i < max(len(runner), len(s.stmts)); i++ {
		switch {
		case i < len(runner) && i < len(s.stmts) && runner[i] == s.stmts[i].Statement:
			continue
		case i < len(s.stmts):
			c.stmt = s.stmts[i].Statement
		default:
			c.stmt = runner[i]
		}
		c.found = append(c.found, Finding{Rule: RuleSplit, File: c.m.File, Line: c.stmt.Line, Version: c.m.Version, Phase: c.phase,
			Message: fmt.Sprintf("the runner cuts this part into %d statement(s) where PostgreSQL's parser finds %d, and they differ here; "+
				"it would send the database other statements than these: write the statement so both agree (report it as a bug)", len(runner), len(s.stmts))})
		return
	}
}

// identifiers flags names longer than PostgreSQL keeps: it truncates them to 63 bytes, so
// the object gets another name than the one written, and two long names can become one.
func (c *lintCtx) identifiers(s *section) {
	for _, t := range s.tokens {
		if t.GetToken() != pg.Token_IDENT {
			continue
		}
		name := s.text[t.GetStart():t.GetEnd()]
		if strings.HasPrefix(name, `"`) {
			name = strings.ReplaceAll(strings.Trim(name, `"`), `""`, `"`)
		}
		if len(name) > maxIdentifier {
			c.stmt = Statement{SQL: name, Line: s.lineOf(int(t.GetStart()))}
			c.flag("identifier-too-long", "identifier %q is %d bytes; PostgreSQL truncates it to %d (%q), so the object gets another name than the one written; shorten it", name, len(name), maxIdentifier, name[:maxIdentifier])
		}
	}
}
