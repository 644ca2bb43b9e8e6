package preflight

import (
	"strconv"

	"github.com/goccy/go-yaml/ast"

	"github.com/cutover/cutover/internal/yamlread"
)

// Lines maps a YAML document's field paths, spelt as spec errors spell them
// ("route.drain_timeout", "config[1].name"), to the line of their key.
type Lines map[string]int

// YAMLLines reads the lines of every path in data, within lim. A document that does not
// parse has none: the check then points at line 1.
func YAMLLines(data []byte, lim yamlread.Limits) Lines {
	lines := Lines{}
	doc, err := yamlread.Parse(data, lim)
	if err != nil || doc.Root() == nil {
		return lines
	}
	walk(lines, "", doc.Root())
	return lines
}

func walk(lines Lines, path string, n ast.Node) {
	switch v := n.(type) {
	case *ast.MappingNode:
		for _, mv := range v.Values {
			walk(lines, path, mv)
		}
	case *ast.MappingValueNode:
		p := v.Key.GetToken().Value
		if path != "" {
			p = path + "." + p
		}
		lines[p] = v.Key.GetToken().Position.Line
		walk(lines, p, v.Value)
	case *ast.SequenceNode:
		for i, item := range v.Values {
			p := path + "[" + strconv.Itoa(i) + "]"
			if tk := item.GetToken(); tk != nil {
				lines[p] = tk.Position.Line
			}
			walk(lines, p, item)
		}
	}
}

// At returns the line of the first path present, else of its nearest ancestor present, else
// the line of "" (a compose service's), else 1.
func (l Lines) At(paths ...string) int {
	for _, p := range paths {
		for p != "" {
			if n, ok := l[p]; ok {
				return n
			}
			p = parent(p)
		}
	}
	if n, ok := l[""]; ok {
		return n
	}
	return 1
}

func parent(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '.' || p[i] == '[' {
			return p[:i]
		}
	}
	return ""
}
