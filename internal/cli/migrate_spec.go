package cli

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/yamlread"
)

// absMigrations rewrites a relative database.migrations of a spec document to an absolute
// path resolved against the spec file's directory (the working directory for standard
// input), in place, so that every other line, and the lines in the daemon's messages, stay
// as the user wrote them. A document without the field, or one that does not parse within
// spec.Limits (the daemon reports why), is returned as it is.
func absMigrations(doc []byte, specFile string) ([]byte, error) {
	parsed, err := yamlread.Parse(doc, spec.Limits)
	if err != nil || parsed.Root() == nil {
		return doc, nil
	}
	path, _ := yaml.PathString("$.database.migrations")
	node, err := path.FilterNode(parsed.Root())
	if err != nil || node == nil {
		return doc, nil
	}
	str, ok := node.(*ast.StringNode)
	if !ok || str.Value == "" || filepath.IsAbs(str.Value) {
		return doc, nil
	}
	base := "."
	if specFile != "" && specFile != "-" {
		base = filepath.Dir(specFile)
	}
	abs, err := filepath.Abs(filepath.Join(base, str.Value))
	if err != nil {
		return nil, fmt.Errorf("resolve database.migrations %q: %w", str.Value, err)
	}
	pos := str.GetToken().Position
	lines := strings.SplitAfter(string(doc), "\n")
	if pos.Line < 1 || pos.Line > len(lines) {
		return doc, nil
	}
	line := lines[pos.Line-1]
	start := pos.Column - 1
	if start < 0 || start >= len(line) {
		return doc, nil
	}
	end := scalarEnd(line, start)
	lines[pos.Line-1] = line[:start] + strconv.Quote(abs) + line[end:]
	return []byte(strings.Join(lines, "")), nil
}

// scalarEnd returns the offset just past the scalar that starts at line[start].
func scalarEnd(line string, start int) int {
	switch q := line[start]; q {
	case '"', '\'':
		for i := start + 1; i < len(line); i++ {
			if q == '"' && line[i] == '\\' {
				i++
				continue
			}
			if line[i] == q {
				if q == '\'' && i+1 < len(line) && line[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
		return len(strings.TrimRight(line, "\r\n"))
	}
	end := len(strings.TrimRight(line, "\r\n"))
	if i := strings.Index(line[start:], " #"); i >= 0 && start+i < end {
		end = start + i
	}
	if i := strings.IndexAny(line[start:end], ",}]"); i >= 0 {
		end = start + i
	}
	return start + len(strings.TrimRight(line[start:end], " \t"))
}
