package flags

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// openAPI is the OFREP API description, loaded for conformance tests, with a validator for
// the JSON-schema subset it uses: $ref, type, required, properties, additionalProperties,
// items, enum, allOf, anyOf, oneOf, not, minimum, pattern and contentSchema.
//
// oneOf is checked as anyOf: the published schema's oneOf cannot be exclusive, since its
// codeDefaultFlag branch ({type: object, properties: {}}) matches every object and
// integerFlag overlaps floatFlag, so a strict check would reject every valued success.
// TestSpecOneOfOverlaps shows this. Where exclusivity matters (eventStream: url xor endpoint)
// the branches exclude each other with not, which is enforced.
type openAPI struct {
	doc map[string]any
}

// loadOpenAPI reads the OFREP API description kept in testdata/ofrep (see its README for
// the origin and licence).
func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "ofrep", "openapi.yaml"))
	if err != nil {
		t.Fatalf("read OFREP API description: %v", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	return &openAPI{doc: doc}
}

// component returns #/components/schemas/name.
func (o *openAPI) component(t *testing.T, name string) any {
	t.Helper()
	s, err := o.resolve("#/components/schemas/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// responseSchema returns the JSON schema of a path's POST response with status, or nil
// when the spec gives that response no body.
func (o *openAPI) responseSchema(t *testing.T, path string, status int) any {
	t.Helper()
	op := dig(o.doc, "paths", path, "post")
	if op == nil {
		t.Fatalf("openapi.yaml has no POST %s", path)
	}
	resp := dig(op, "responses", fmt.Sprint(status))
	if resp == nil {
		t.Fatalf("openapi.yaml: POST %s has no response %d", path, status)
	}
	return dig(resp, "content", "application/json", "schema")
}

func (o *openAPI) resolve(ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("unsupported $ref %q", ref)
	}
	var cur any = o.doc
	for _, part := range strings.Split(ref[2:], "/") {
		m, ok := cur.(map[string]any)
		if !ok || m[part] == nil {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
		cur = m[part]
	}
	return cur, nil
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// annotations are keywords that do not constrain a value.
var annotations = []string{"description", "example", "examples", "format", "default", "title", "contentMediaType"}

// validate returns every violation of schema by v (decoded JSON) at path.
func (o *openAPI) validate(schema, v any, path string) []string {
	s, ok := schema.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: schema is not an object: %v", path, schema)}
	}
	var errs []string
	for kw, arg := range s {
		if slices.Contains(annotations, kw) {
			continue
		}
		errs = append(errs, o.keyword(kw, arg, s, v, path)...)
	}
	return errs
}

// keyword checks one keyword of schema s.
func (o *openAPI) keyword(kw string, arg any, s map[string]any, v any, path string) []string {
	bad := func(format string, args ...any) []string {
		return []string{path + ": " + fmt.Sprintf(format, args...)}
	}
	obj, isObj := v.(map[string]any)
	switch kw {
	case "$ref":
		target, err := o.resolve(arg.(string))
		if err != nil {
			return bad("%v", err)
		}
		return o.validate(target, v, path)
	case "type":
		if !hasJSONType(arg.(string), v) {
			return bad("%v is not of type %s", v, arg)
		}
	case "enum":
		if !slices.ContainsFunc(arg.([]any), func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
			return bad("%v is not one of %v", v, arg)
		}
	case "required":
		var errs []string
		for _, name := range arg.([]any) {
			if _, ok := obj[name.(string)]; isObj && !ok {
				errs = append(errs, bad("required property %q is missing", name)...)
			}
		}
		return errs
	case "properties":
		var errs []string
		for name, sub := range arg.(map[string]any) {
			if pv, ok := obj[name]; isObj && ok {
				errs = append(errs, o.validate(sub, pv, path+"."+name)...)
			}
		}
		return errs
	case "additionalProperties":
		return o.additional(arg, s, obj, path)
	case "items":
		var errs []string
		list, _ := v.([]any)
		for i, it := range list {
			errs = append(errs, o.validate(arg, it, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return errs
	case "allOf":
		var errs []string
		for _, sub := range arg.([]any) {
			errs = append(errs, o.validate(sub, v, path)...)
		}
		return errs
	case "anyOf", "oneOf":
		var all []string
		for i, sub := range arg.([]any) {
			errs := o.validate(sub, v, path)
			if len(errs) == 0 {
				return nil
			}
			all = append(all, fmt.Sprintf("branch %d: %s", i, strings.Join(errs, "; ")))
		}
		return bad("matches no %s branch: %s", kw, strings.Join(all, " | "))
	case "not":
		if len(o.validate(arg, v, path)) == 0 {
			return bad("matches a schema it must not match: %v", arg)
		}
	case "minimum":
		if n, ok := v.(float64); ok && n < toF(arg) {
			return bad("%v is below the minimum %v", n, arg)
		}
	case "pattern":
		if str, ok := v.(string); ok && !regexp.MustCompile(arg.(string)).MatchString(str) {
			return bad("%q does not match %s", str, arg)
		}
	case "contentSchema":
		return o.content(arg, s, v, path)
	default:
		return bad("the validator does not support keyword %q", kw)
	}
	return nil
}

// additional checks additionalProperties: false or a schema for undeclared properties.
func (o *openAPI) additional(arg any, s map[string]any, obj map[string]any, path string) []string {
	declared, _ := s["properties"].(map[string]any)
	var errs []string
	for name, pv := range obj {
		if _, ok := declared[name]; ok {
			continue
		}
		switch a := arg.(type) {
		case bool:
			if !a {
				errs = append(errs, fmt.Sprintf("%s: property %q is not allowed", path, name))
			}
		default:
			errs = append(errs, o.validate(a, pv, path+"."+name)...)
		}
	}
	return errs
}

// content validates a string holding JSON against contentSchema.
func (o *openAPI) content(arg any, s map[string]any, v any, path string) []string {
	str, ok := v.(string)
	if !ok || s["contentMediaType"] != "application/json" {
		return nil
	}
	var inner any
	if err := json.Unmarshal([]byte(str), &inner); err != nil {
		return []string{fmt.Sprintf("%s: not JSON: %v", path, err)}
	}
	return o.validate(arg, inner, path+"(json)")
}

func hasJSONType(t string, v any) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		n, ok := v.(float64)
		return ok && n == math.Trunc(n)
	case "null":
		return v == nil
	}
	return false
}

func toF(v any) float64 {
	f, _ := toFloat(v)
	return f
}

// mustValidate fails the test when body (JSON) violates schema.
func (o *openAPI) mustValidate(t *testing.T, what string, schema any, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", what, err, body)
	}
	if errs := o.validate(schema, v, "$"); len(errs) > 0 {
		t.Errorf("%s violates the OFREP schema:\n  %s\nbody: %s", what, strings.Join(errs, "\n  "), body)
	}
}

// TestValidatorCatchesViolations makes sure the validator is not vacuous.
func TestValidatorCatchesViolations(t *testing.T) {
	o := loadOpenAPI(t)
	bad := map[string]string{
		"evaluationSuccess":     `{"key":"a","value":true,"reason":"DEFAULT"}`,
		"flagNotFound":          `{"key":"a","errorCode":"GENERAL"}`,
		"evaluationFailure":     `{"key":"a","errorCode":"TYPE_MISMATCH"}`,
		"bulkEvaluationSuccess": `{"flags":[{"key":"a"}]}`,
		"bulkEvaluationFailure": `{"errorDetails":"x"}`,
		"eventStream":           `{"type":"sse","url":"u","endpoint":{"requestUri":"/x"}}`,
		"eventStreamEndpoint":   `{"requestUri":"x"}`,
		"sseEvent":              `{"data":"{\"etag\":\"x\"}"}`,
		"metadata":              `{"a":{"b":1}}`,
		"context":               `{"targetingKey":5}`,
	}
	for name, body := range bad {
		var v any
		_ = json.Unmarshal([]byte(body), &v)
		if errs := o.validate(o.component(t, name), v, "$"); len(errs) == 0 {
			t.Errorf("%s accepted %s", name, body)
		}
	}
}

// TestSpecOneOfOverlaps records why oneOf is checked as anyOf: a typical success matches two
// of evaluationSuccess's value branches.
func TestSpecOneOfOverlaps(t *testing.T) {
	o := loadOpenAPI(t)
	branches := dig(o.component(t, "evaluationSuccess"), "allOf").([]any)[1].(map[string]any)["oneOf"].([]any)
	v := map[string]any{"key": "a", "reason": "STATIC", "value": true}
	matches := 0
	for _, b := range branches {
		if len(o.validate(b, v, "$")) == 0 {
			matches++
		}
	}
	if matches != 2 {
		t.Errorf("a boolean success matches %d oneOf branches; the comment on openAPI is out of date", matches)
	}
}
