package compose

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"

	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/yamlread"
)

// Limits are what a compose file may cost (see yamlread.Limits): 256 KiB (the YAML parsers
// hold hundreds of bytes per byte of a dense file while they read it), 64 levels of nesting,
// 1,000 aliases, and with the aliases expanded 100,000 values and 4 MiB of text. compose-go
// parses the file again to build its model; it reads the very bytes checked here.
var Limits = yamlread.Limits{Bytes: 256 << 10, Depth: 64, Aliases: 1000, Nodes: 100_000, ExpandedBytes: 4 << 20}

// sources are the compose files as written, kept to put file positions on errors.
// compose-go's model has no positions, so they are looked up by path in our own parse.
type sources struct {
	files []sourceFile
}

type sourceFile struct {
	name string   // as the caller gave it
	data []byte   // the file's bytes, checked within Limits
	root ast.Node // the document's body, aliases resolved; nil when the file does not parse here
	err  error    // a syntax error with its position, or nil
}

// readSources reads and parses every file within Limits. A file that cannot be read or is
// past a limit is an error. A file that does not parse here is kept with its syntax error,
// reported only if compose-go fails too, unless it holds aliases: then what they expand to
// cannot be measured, and it is refused.
func readSources(files []string) (*sources, error) {
	src := &sources{}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read compose file: %w", err)
		}
		f := sourceFile{name: name, data: data}
		doc, err := yamlread.Parse(data, Limits)
		var re *yamlread.Error
		switch {
		case err == nil:
			f.root = doc.Root()
		case errors.As(err, &re) && re.Limit == "" && !hasAlias(data):
			f.err = &spec.FieldError{File: name, Line: re.Line, Column: re.Column, Message: re.Msg}
		case errors.As(err, &re):
			return nil, &spec.FieldError{File: name, Line: re.Line, Column: re.Column, Message: re.Msg}
		default:
			return nil, fmt.Errorf("read compose file %s: %w", name, err)
		}
		src.files = append(src.files, f)
	}
	return src, nil
}

// hasAlias reports whether data holds an alias token.
func hasAlias(data []byte) bool {
	for _, tk := range lexer.Tokenize(string(data)) {
		if tk.Type == token.AliasType {
			return true
		}
	}
	return false
}

// configFiles are the files with their checked bytes, for compose-go.
func (s *sources) configFiles() []types.ConfigFile {
	out := make([]types.ConfigFile, len(s.files))
	for i, f := range s.files {
		out[i] = types.ConfigFile{Filename: f.name, Content: f.data}
	}
	return out
}

// syntaxError returns the first file's syntax error, or nil when every file parsed.
func (s *sources) syntaxError() error {
	for _, f := range s.files {
		if f.err != nil {
			return f.err
		}
	}
	return nil
}

// modelPath finds the model path compose-go names in its error messages
// ("services.web.deploy.replicas: ...", "validating f.yaml: services.web.imagee false schema").
var modelPath = regexp.MustCompile(`\b(?:services|networks|volumes|configs|secrets)(?:\.[^\s:.]+)+`)

// cycleRE finds the first edge of compose-go's dependency cycle message.
var cycleRE = regexp.MustCompile(`dependency cycle detected: (\S+) -> (\S+)`)

// locateError puts the position of the model path an error of compose-go names in front of
// it, when the path is found in the files; other errors are returned as they are.
func (s *sources) locateError(err error) error {
	var located spec.Errors
	if errors.As(err, &located) {
		return err
	}
	if m := cycleRE.FindStringSubmatch(err.Error()); m != nil {
		file, line, col := s.locate([]string{"services", m[1], "depends_on", m[2]})
		if line > 0 {
			return fmt.Errorf("%s:%d:%d: services.%s.depends_on: %w", file, line, col, m[1], err)
		}
	}
	p := modelPath.FindString(err.Error())
	if p == "" {
		return err
	}
	file, line, col := s.locate(strings.Split(p, "."))
	if line == 0 {
		return err
	}
	if strings.HasSuffix(err.Error(), " false schema") {
		// The JSON schema's wording for a key that is not in the compose specification.
		return fmt.Errorf("%s:%d:%d: %s is not a compose key: %w", file, line, col, p, err)
	}
	return fmt.Errorf("%s:%d:%d: %w", file, line, col, err)
}

// locate returns where path (mapping keys and sequence indexes) is written, or its nearest
// ancestor that is. Later files override earlier ones, so they are searched first. It
// returns the first file's name and zero line and column when nothing is found.
func (s *sources) locate(path []string) (file string, line, col int) {
	best := -1
	for i := len(s.files) - 1; i >= 0; i-- {
		f := s.files[i]
		if f.root == nil {
			continue
		}
		depth, pos := lookup(f.root, path)
		if pos != nil && depth > best {
			best, file, line, col = depth, f.name, pos.Line, pos.Column
		}
		if depth == len(path) {
			break
		}
	}
	if best < 0 && len(s.files) > 0 {
		file = s.files[0].name
	}
	return file, line, col
}

// lookup walks path down from n and returns how many segments it found and the position of
// the key (or item) of the last one found.
func lookup(n ast.Node, path []string) (int, *token.Position) {
	var pos *token.Position
	for depth, seg := range path {
		child, at := childNode(unwrap(n), seg)
		if child == nil {
			return depth, pos
		}
		n, pos = child, at
	}
	return len(path), pos
}

// childNode returns the value under key seg of a mapping (or item seg of a sequence) and
// the position that names it.
func childNode(n ast.Node, seg string) (ast.Node, *token.Position) {
	switch v := n.(type) {
	case *ast.MappingNode:
		for _, mv := range v.Values {
			if child, pos := childNode(mv, seg); child != nil {
				return child, pos
			}
		}
	case *ast.MappingValueNode:
		if v.Key != nil && v.Key.GetToken() != nil && v.Key.GetToken().Value == seg {
			return v.Value, v.Key.GetToken().Position
		}
	case *ast.SequenceNode:
		i, err := strconv.Atoi(seg)
		if err == nil && i >= 0 && i < len(v.Values) && v.Values[i] != nil {
			return v.Values[i], v.Values[i].GetToken().Position
		}
	}
	return nil, nil
}

// unwrap skips the tags around a node.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

// has returns the first file that has the top-level key.
func (s *sources) has(key string) (string, bool) {
	for _, f := range s.files {
		if f.root == nil {
			continue
		}
		if depth, _ := lookup(f.root, []string{key}); depth == 1 {
			return f.name, true
		}
	}
	return "", false
}
