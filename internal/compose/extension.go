package compose

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/cutover/cutover/internal/spec"
)

// applyExtension overlays the x-cutover mapping on doc (see ExtensionKey) and returns the spec
// paths it set: "strategy" for a whole field, "route.hosts" for a key of a merged section.
func applyExtension(doc map[string]any, ext any) (map[string]bool, error) {
	set := map[string]bool{}
	if ext == nil {
		return set, nil
	}
	m, ok := ext.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("must be a mapping of spec fields (strategy, probes, route, ...), not %T", ext)
	}
	for k, v := range m {
		if k == "name" {
			return nil, errors.New("name: the cutover service name is the compose service name; it cannot be set here")
		}
		sub, isMap := v.(map[string]any)
		cur, curMap := doc[k].(map[string]any)
		if k == "strategy" || !isMap || !curMap {
			doc[k] = v
			set[k] = true
			continue
		}
		for k2, v2 := range sub {
			cur[k2] = v2
			set[k+"."+k2] = true
		}
	}
	return set, nil
}

// parseSpec parses doc with spec.Parse (strict decoding, defaults, Validate) and turns its
// errors into errors about the compose file.
func parseSpec(doc map[string]any, name string, fromExt map[string]bool, src *sources) (*spec.Service, spec.Errors) {
	// JSON is YAML whose strings are always quoted: "0123" and "yes" stay strings.
	data, err := json.Marshal(doc)
	if err != nil {
		file, line, col := src.locate([]string{"services", name, ExtensionKey})
		return nil, spec.Errors{{File: file, Line: line, Column: col, Path: "services." + name, Message: err.Error()}}
	}
	s, err := spec.Parse(data, "")
	if err == nil {
		return s, nil
	}
	var perrs spec.Errors
	if !errors.As(err, &perrs) {
		return nil, spec.Errors{{Path: "services." + name, Message: err.Error()}}
	}
	out := make(spec.Errors, 0, len(perrs))
	for _, e := range perrs {
		out = append(out, composeError(e, name, fromExt, src))
	}
	return nil, out
}

// composeError re-points a spec error at the compose file: at the x-cutover field when the
// extension set it, else at the compose key the field was mapped from.
func composeError(e *spec.FieldError, name string, fromExt map[string]bool, src *sources) *spec.FieldError {
	segs := pathSegments(e.Path)
	out := &spec.FieldError{Message: e.Message}
	at := []string{"services", name}
	if fromExtension(segs, fromExt) {
		out.Path = "services." + name + "." + ExtensionKey + "." + e.Path
		at = append(append(at, ExtensionKey), segs...)
	} else {
		key := composeKey(e.Path)
		out.Path = "services." + name
		if key != "" {
			out.Path += "." + key
			at = append(at, strings.Split(key, ".")...)
		}
		switch hint, ok := hints[e.Path]; {
		case ok && strings.HasPrefix(e.Message, "required"):
			out.Message = e.Path + ": required (" + hint + ")"
		case e.Path != "":
			out.Message = e.Path + ": " + e.Message
		}
	}
	out.File, out.Line, out.Column = src.locate(at)
	return out
}

// fromExtension reports whether the spec field at segs, or its section key, came from x-cutover.
func fromExtension(segs []string, fromExt map[string]bool) bool {
	if len(segs) == 0 {
		return false
	}
	return fromExt[segs[0]] || (len(segs) > 1 && fromExt[segs[0]+"."+segs[1]])
}

var indexRE = regexp.MustCompile(`\[(\d+)\]`)

// pathSegments splits "strategy.canary.steps[1].weight" into strategy, canary, steps, 1, weight.
func pathSegments(path string) []string {
	if path == "" {
		return nil
	}
	return strings.Split(indexRE.ReplaceAllString(path, ".$1"), ".")
}

// composeKeys maps spec field prefixes to the compose key they are imported from.
var composeKeys = []struct{ field, key string }{
	{"run.image", "image"}, {"run.command", "image"}, {"run.args", "command"},
	{"run.env", "environment"}, {"run.dir", "working_dir"}, {"run", "image"},
	{"replicas", "deploy.replicas"}, {"probes", "healthcheck"}, {"route", "ports"},
	{"strategy", "deploy.update_config"}, {"stop_grace", "stop_grace_period"},
}

// composeKey is the compose key a spec field comes from; "" for the service itself.
func composeKey(field string) string {
	for _, k := range composeKeys {
		if field == k.field || strings.HasPrefix(field, k.field+".") || strings.HasPrefix(field, k.field+"[") {
			return k.key
		}
	}
	return ""
}

// hints say how to fix a required spec field that a compose file leaves out.
var hints = map[string]string{
	"route.listen": `publish a port, like ports: ["8080:80"], or set x-cutover: {route: {listen: "127.0.0.1:8080"}}`,
	"run.command":  "cutover runs images and does not build them: set image",
}
