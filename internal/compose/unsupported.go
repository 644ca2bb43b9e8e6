package compose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/tree"
)

// supported lists every compose attribute the import maps, below services.<name> unless it
// starts with "/". compose-go reports every other attribute of the files (x-* keys excepted),
// so a key the compose specification adds later is a warning until it is mapped here.
var supported = []string{
	"/name", "/services", "/services.*",
	"image", "command", "entrypoint", "working_dir", "user", "read_only",
	"environment", "environment.*", "env_file", "env_file.[].path", "env_file.[].required", "env_file.[].format",
	"ports", "ports.[].target", "ports.[].published", "ports.[].host_ip", "ports.[].protocol", "ports.[].mode",
	"expose",
	"healthcheck", "healthcheck.test", "healthcheck.interval", "healthcheck.timeout", "healthcheck.retries",
	"healthcheck.start_period", "healthcheck.start_interval", "healthcheck.disable",
	"deploy", "deploy.mode", "deploy.replicas", "scale",
	"deploy.resources", "deploy.resources.limits", "deploy.resources.limits.memory", "deploy.resources.limits.cpus",
	"mem_limit", "cpus",
	"deploy.update_config", "deploy.rollback_config",
	"stop_grace_period", "stop_signal",
	"depends_on", "depends_on.*", "depends_on.*.condition", "depends_on.*.required", "depends_on.*.restart",
	"profiles",
	"volumes", "volumes.[].type", "volumes.[].source", "volumes.[].target", "volumes.[].read_only",
	"volumes.[].bind", "volumes.[].bind.create_host_path", "volumes.[].volume",
	"secrets", "secrets.[].source", "secrets.[].target",
	"networks", "networks.*", "networks.*.aliases",
	"/volumes", "/volumes.*", "/volumes.*.name", "/volumes.*.labels", "/volumes.*.labels.*", "/volumes.*.external",
	"/secrets", "/secrets.*", "/secrets.*.file", "/secrets.*.name",
	"/networks", "/networks.*", "/networks.*.name", "/networks.*.external", "/networks.*.labels", "/networks.*.labels.*",
	"/networks.*.driver", "/networks.*.internal",
}

// updateKeys are the keys of update_config and rollback_config.
var updateKeys = []string{"parallelism", "delay", "failure_action", "monitor", "max_failure_ratio", "order"}

// supportedPaths is supported as compose-go paths.
var supportedPaths = func() []tree.Path {
	all := slices.Clone(supported)
	for _, k := range updateKeys {
		all = append(all, "deploy.update_config."+k, "deploy.rollback_config."+k)
	}
	return paths(all)
}()

// paths turns attributes (below services.<name> unless they start with "/") into compose-go paths.
func paths(attrs []string) []tree.Path {
	var out []tree.Path
	for _, p := range attrs {
		if rest, ok := strings.CutPrefix(p, "/"); ok {
			out = append(out, tree.Path(rest))
			continue
		}
		out = append(out, tree.Path("services.*."+p))
	}
	return out
}

// unsupportedValues are supported attributes whose value cutover cannot honour.
var unsupportedValues = []loader.UnsupportedAttributePattern{
	{Path: "services.*.ports.[].protocol", Detect: func(v any) bool { return v != "tcp" }},
	{Path: "services.*.deploy.mode", Detect: func(v any) bool { return v != "replicated" }},
	{Path: "services.*.depends_on.*.restart", Detect: func(v any) bool { return v == true }},
	{Path: "services.*.depends_on.*.required", Detect: func(v any) bool { return v == false }},
}

// why explains the warning of an attribute, by its path below the service (list items as []).
var why = map[string]string{
	"ports.[].protocol":     "only TCP is routed; this port is not",
	"deploy.mode":           "cutover runs deploy.replicas instances (replicated mode)",
	"depends_on.*.restart":  "cutover does not restart dependents when a dependency restarts",
	"depends_on.*.required": "cutover treats every dependency as required",
	"build":                 "cutover runs images and does not build them",
	"restart":               "cutover restarts crashed instances itself",
}

// projectWarnings renders the findings outside services, one sentence each.
func projectWarnings(findings []loader.UnsupportedAttribute) []string {
	var out []string
	for _, f := range findings {
		parts := f.Path.Parts()
		if len(parts) > 0 && parts[0] == "services" {
			continue
		}
		out = append(out, fmt.Sprintf("%s is not supported by cutover and is ignored", f.Path))
	}
	return out
}

// serviceWarnings renders the findings under service name, one sentence each.
func serviceWarnings(findings []loader.UnsupportedAttribute, name string) []string {
	var out []string
	for _, f := range findings {
		parts := f.Path.Parts()
		if len(parts) < 3 || parts[0] != "services" || parts[1] != name {
			continue
		}
		what := strings.ReplaceAll(strings.Join(parts[2:], "."), ".[]", "[]")
		if s, ok := scalar(f.Value); ok {
			what += " (" + s + ")"
		}
		if reason := why[generic(parts[2:])]; reason != "" {
			out = append(out, fmt.Sprintf("service %s: %s is ignored: %s", name, what, reason))
		} else {
			out = append(out, fmt.Sprintf("service %s: %s is not supported by cutover and is ignored", name, what))
		}
	}
	return out
}

// generic replaces the names under depends_on by "*", to find the attribute in why.
func generic(parts []string) string {
	if len(parts) == 3 && parts[0] == "depends_on" {
		return "depends_on.*." + parts[2]
	}
	return strings.Join(parts, ".")
}

// scalar renders a string, number or boolean.
func scalar(v any) (string, bool) {
	switch v.(type) {
	case string, bool, int, int64, uint64, float64:
		return fmt.Sprint(v), true
	}
	return "", false
}

// stackSupported adds to supported what a stack's plan reads: builds and restart policies.
var stackSupported = []string{
	"build", "build.context", "build.dockerfile", "build.args", "build.args.*", "build.target",
	"restart",
}

// stackSupportedPaths is supported and stackSupported as compose-go paths.
var stackSupportedPaths = append(slices.Clone(supportedPaths), paths(stackSupported)...)
