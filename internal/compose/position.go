package compose

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/cutover/cutover/internal/spec"
)

// sources are the compose files as written, kept to put file positions on errors.
// compose-go's model has no positions, so they are looked up by path in our own parse.
type sources struct {
	files []sourceFile
}

type sourceFile struct {
	name string    // as the caller gave it
	root *ast.File // nil when the file does not parse here
	err  error     // a syntax error with its position, or nil
}

// readSources reads and parses every file. A file that cannot be read is an error; a file
// that does not parse is kept with its syntax error, reported only if compose-go fails too.
func readSources(files []string) (*sources, error) {
	src := &sources{}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read compose file: %w", err)
		}
		f := sourceFile{name: name}
		var ferr *spec.FieldError
		if f.root, ferr = parseYAML(data); ferr != nil {
			ferr.File = name
			f.err = ferr
		}
		src.files = append(src.files, f)
	}
	return src, nil
}

// parseYAML parses data; a syntax error comes back with its line and column.
func parseYAML(data []byte) (f *ast.File, ferr *spec.FieldError) {
	defer func() {
		// The YAML parser is not ours: a crafted file must not panic the caller.
		if r := recover(); r != nil {
			f, ferr = nil, &spec.FieldError{Message: fmt.Sprintf("malformed YAML: %v", r)}
		}
	}()
	f, err := parser.ParseBytes(data, 0)
	if err == nil {
		return f, nil
	}
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return nil, &spec.FieldError{Message: "malformed YAML: " + err.Error()}
	}
	ferr = &spec.FieldError{Message: "malformed YAML: " + ye.GetMessage()}
	if tk := ye.GetToken(); tk != nil && tk.Position != nil {
		ferr.Line, ferr.Column = tk.Position.Line, tk.Position.Column
	}
	return nil, ferr
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

// locateError puts the position of the model path an error of compose-go names in front of
// it, when the path is found in the files; other errors are returned as they are.
func (s *sources) locateError(err error) error {
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
		if f.root == nil || len(f.root.Docs) == 0 {
			continue
		}
		depth, pos := lookup(f.root.Docs[0].Body, path)
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

// unwrap skips the anchors and tags around a node.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
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
		if f.root == nil || len(f.root.Docs) == 0 {
			continue
		}
		if depth, _ := lookup(f.root.Docs[0].Body, []string{key}); depth == 1 {
			return f.name, true
		}
	}
	return "", false
}
