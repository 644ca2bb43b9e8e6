package flags

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/yamlread"
)

// flagIndent is how far parseFlagYAML indents the user's text inside the document it builds.
const flagIndent = 4

// PutFlagYAML creates or replaces the flag key from the YAML text of one flag (the fields of
// one entry of an export, key optional) on behalf of actor. Problems come back as one
// *ValidationError with the lines, columns and paths of that text.
func (s *Service) PutFlagYAML(ctx context.Context, actor, key string, data []byte) (Status, error) {
	f, err := parseFlagYAML(data, key, s.manager.Segments())
	if err != nil {
		return Status{}, err
	}
	return s.PutFlag(ctx, actor, f)
}

// parseFlagYAML reads the YAML text of one flag (the fields of one entry of an export, key
// optional) for the flag key. It reuses the flags-as-code parser, strict about unknown fields
// and with positions, by wrapping the text as the only entry of a document; errors are then
// mapped back to the user's lines, columns and paths. The text is first read as it is within
// FlagLimits, so that malformed YAML and a limit are reported at the user's positions.
func parseFlagYAML(data []byte, key string, segs []Segment) (Flag, error) {
	var top map[string]any
	var head []string
	err := yamlread.Unmarshal(data, &top, FlagLimits)
	var re *yamlread.Error
	if errors.As(err, &re) {
		return Flag{}, &ValidationError{Errors: []*FieldError{yamlError("", re)}}
	}
	if err == nil {
		if _, ok := top["key"]; !ok {
			head = append(head, "key: "+strconv.Quote(key)) // a JSON string is a YAML string
		}
	}
	var b bytes.Buffer
	b.WriteString("flags:\n  -\n")
	pad := strings.Repeat(" ", flagIndent)
	for _, l := range head {
		b.WriteString(pad + l + "\n")
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if strings.TrimSpace(l) == "---" {
			l = "" // one document only; a marker would end the wrapper's
		}
		b.WriteString(pad + l + "\n")
	}
	known := Segments{}
	for _, s := range segs {
		known[s.Name] = s
	}
	doc, err := ParseDocument(b.Bytes(), known)
	if err != nil {
		return Flag{}, unwrapFlagErrors(err, 2+len(head))
	}
	if len(doc.Flags) != 1 {
		return Flag{}, &ValidationError{Errors: []*FieldError{{Msg: "want the fields of one flag"}}}
	}
	f := doc.Flags[0]
	if f.Key != key {
		return Flag{}, &ValidationError{Errors: []*FieldError{
			{Path: "key", Msg: fmt.Sprintf("the file is for flag %q, not %q", f.Key, key)}}}
	}
	return f, nil
}

// unwrapFlagErrors maps errors of the wrapping document back to the user's text, whose
// first line was line skip+1 of the document.
func unwrapFlagErrors(err error, skip int) error {
	ve, ok := err.(*ValidationError)
	if !ok {
		return err
	}
	out := &ValidationError{}
	for _, fe := range ve.Errors {
		c := *fe
		c.Path = strings.TrimPrefix(strings.TrimPrefix(c.Path, "flags[0]"), ".")
		if c.Line > skip {
			c.Line -= skip
			c.Column = max(c.Column-flagIndent, 1)
		} else {
			c.Line, c.Column = 0, 0
		}
		out.Errors = append(out.Errors, &c)
	}
	return out
}
