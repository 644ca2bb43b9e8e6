package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Phase names a part of a migration; the same words are stored in the version table.
type Phase string

// The phases of a migration.
const (
	PhaseExpand   Phase = "expand"
	PhaseContract Phase = "contract"
	PhaseDown     Phase = "down"
)

// Migration is one parsed migration file.
type Migration struct {
	Version int
	Name    string
	File    string // path as found by Load or given to Parse
	// Expand is never nil after Parse; Contract and Down are nil when the file has none.
	Expand, Contract, Down *Section
	NoTransaction          bool
	// LockTimeout and StatementTimeout are nil when the file sets none (the runner's default
	// applies); a pointer to 0 means "no timeout".
	LockTimeout, StatementTimeout *time.Duration
	Overrides                     []Override
}

// Section is the text of one phase of a migration.
type Section struct {
	Phase      Phase
	Line       int    // line of the marker
	SQL        string // text between this marker and the next, trimmed
	SQLLine    int    // file line of SQL's first byte
	Checksum   string // hex SHA-256 of SQL
	Statements []Statement
}

// Statement is one SQL statement and the file line it starts on.
type Statement struct {
	SQL  string
	Line int
}

// Override is a lint-override directive: the migration accepts Rule for Reason.
type Override struct {
	Rule   string
	Reason string
	Line   int
}

// LineError is a problem in a migration file at a line.
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

var fileName = regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9_-]+)\.sql$`)

// Load reads every NNNN_name.sql file in dir and returns the migrations sorted by version.
// All problems found (bad names, duplicate versions, file:line errors) are joined in the error.
func Load(dir string) ([]Migration, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	var files []File
	var errs []error
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, fmt.Errorf("load migrations: %w", err))
			continue
		}
		files = append(files, File{Name: e.Name(), Content: data})
	}
	migs, err := ParseFiles(dir, files)
	if err != nil || len(errs) > 0 {
		return nil, errors.Join(append(errs, err)...)
	}
	return migs, nil
}

// File is one migration file's name (NNNN_name.sql) and content.
type File struct {
	Name    string
	Content []byte
}

// ParseFiles parses files as the contents of dir (errors name dir/file:line) and returns the
// migrations sorted by version. All problems found are joined in the error.
func ParseFiles(dir string, files []File) ([]Migration, error) {
	var migs []Migration
	var errs []error
	seen := map[int]string{}
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		m, err := Parse(path, f.Content)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, ok := seen[m.Version]; ok {
			errs = append(errs, fmt.Errorf("%s: version %d is also used by %s", path, m.Version, prev))
			continue
		}
		seen[m.Version] = path
		migs = append(migs, m)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].Version < migs[j].Version })
	return migs, nil
}

// Parse parses one migration file; path's base name must be NNNN_name.sql.
func Parse(path string, data []byte) (Migration, error) {
	base := filepath.Base(path)
	match := fileName.FindStringSubmatch(base)
	if match == nil {
		return Migration{}, &LineError{File: path, Line: 1, Msg: "file name must be NNNN_name.sql (digits, underscore, letters/digits/_/-)"}
	}
	v, err := strconv.Atoi(match[1])
	if err != nil {
		return Migration{}, &LineError{File: path, Line: 1, Msg: "version " + match[1] + " is too large"}
	}
	m := Migration{Version: v, Name: match[2], File: path}
	p := fileParser{m: &m}
	for i, line := range strings.SplitAfter(string(data), "\n") {
		p.line(i+1, line)
	}
	p.close()
	if m.Expand == nil && len(p.errs) == 0 {
		p.errorf(1, "no %q section (a migration needs one, even empty)", "-- +cutover expand")
	}
	if len(p.errs) > 0 {
		return Migration{}, errors.Join(p.errs...)
	}
	return m, nil
}

var directive = regexp.MustCompile(`^\s*--\s*\+cutover\b\s*(.*?)\s*$`)

type fileParser struct {
	m     *Migration
	cur   *Section
	start int // first line of cur's body
	body  strings.Builder
	errs  []error
}

func (p *fileParser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, &LineError{File: p.m.File, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *fileParser) line(n int, text string) {
	match := directive.FindStringSubmatch(strings.TrimRight(text, "\r\n"))
	if match == nil {
		if p.cur != nil {
			p.body.WriteString(text)
		} else if t := strings.TrimSpace(text); t != "" && !strings.HasPrefix(t, "--") {
			p.errorf(n, "SQL before the first section marker (-- +cutover expand)")
		}
		return
	}
	fields := strings.Fields(match[1])
	if len(fields) == 0 {
		p.errorf(n, "empty +cutover directive")
		return
	}
	switch kw := fields[0]; kw {
	case "expand", "contract", "down":
		p.startSection(n, Phase(kw), fields[1:])
	default:
		p.directive(n, match[1], fields)
		if p.cur != nil {
			p.body.WriteString(text) // kept so the checksum covers it, harmless to run
		}
	}
}

func (p *fileParser) startSection(n int, ph Phase, extra []string) {
	if len(extra) > 0 {
		p.errorf(n, "unexpected %q after section marker %s", strings.Join(extra, " "), ph)
	}
	p.close()
	slot := p.slot(ph)
	if *slot != nil {
		p.errorf(n, "section %s appears twice (first at line %d)", ph, (*slot).Line)
		p.cur = &Section{} // swallow the duplicate's body
		return
	}
	p.cur = &Section{Phase: ph, Line: n}
	p.start = n + 1
	*slot = p.cur
}

func (p *fileParser) slot(ph Phase) **Section {
	switch ph {
	case PhaseContract:
		return &p.m.Contract
	case PhaseDown:
		return &p.m.Down
	}
	return &p.m.Expand
}

func (p *fileParser) close() {
	if p.cur == nil {
		return
	}
	raw := p.body.String()
	p.body.Reset()
	p.cur.SQL = strings.TrimSpace(raw)
	p.cur.SQLLine = p.start + strings.Count(raw[:len(raw)-len(strings.TrimLeftFunc(raw, unicode.IsSpace))], "\n")
	sum := sha256.Sum256([]byte(p.cur.SQL))
	p.cur.Checksum = hex.EncodeToString(sum[:])
	stmts, errLine, errMsg := split(raw, p.start)
	if errMsg != "" {
		p.errorf(errLine, "%s", errMsg)
	}
	p.cur.Statements = stmts
	p.cur = nil
}

func (p *fileParser) directive(n int, rest string, fields []string) {
	switch fields[0] {
	case "no-transaction":
		if len(fields) != 1 {
			p.errorf(n, "no-transaction takes no argument")
		}
		p.m.NoTransaction = true
	case "lock_timeout", "statement_timeout":
		d, err := parseTimeout(fields)
		if err != nil {
			p.errorf(n, "%s: %v", fields[0], err)
			return
		}
		if fields[0] == "lock_timeout" {
			p.m.LockTimeout = &d
		} else {
			p.m.StatementTimeout = &d
		}
	case "lint-override":
		p.override(n, rest)
	default:
		p.errorf(n, "unknown directive %q (want expand, contract, down, no-transaction, lock_timeout, statement_timeout or lint-override)", fields[0])
	}
}

func parseTimeout(fields []string) (time.Duration, error) {
	if len(fields) != 2 {
		return 0, errors.New("want one duration such as 2s or 1m")
	}
	if fields[1] == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(fields[1])
	if err != nil || d < time.Millisecond {
		return 0, fmt.Errorf("%q is not a duration of at least 1ms (such as 2s, 1m) or 0", fields[1])
	}
	return d, nil
}

var overrideSyntax = regexp.MustCompile(`^lint-override\s+(\S+)\s+reason:\s*(.*)$`)

func (p *fileParser) override(n int, rest string) {
	match := overrideSyntax.FindStringSubmatch(rest)
	if match == nil || strings.TrimSpace(match[2]) == "" {
		p.errorf(n, "lint-override wants: -- +cutover lint-override RULE reason: TEXT")
		return
	}
	if _, ok := ruleByID[match[1]]; !ok {
		p.errorf(n, "lint-override: unknown rule %q", match[1])
		return
	}
	p.m.Overrides = append(p.m.Overrides, Override{Rule: match[1], Reason: strings.TrimSpace(match[2]), Line: n})
}

// Section returns the migration's section for ph, or nil.
func (m Migration) Section(ph Phase) *Section {
	switch ph {
	case PhaseExpand:
		return m.Expand
	case PhaseContract:
		return m.Contract
	case PhaseDown:
		return m.Down
	}
	return nil
}
