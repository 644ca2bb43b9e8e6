package preflight

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/cutover/cutover/internal/spec"
)

// MaxDockerfile is the largest Dockerfile read, in bytes.
const MaxDockerfile = 1 << 20

// instruction is one Dockerfile instruction: its keyword (lower case), flags, arguments and
// first line.
type instruction struct {
	cmd   string
	flags []string
	args  []string
	text  string
	line  int
}

// stage is one FROM and the instructions that follow it.
type stage struct {
	from  instruction
	image string // the base, "" for a FROM of an earlier stage's name
	name  string
	body  []instruction
}

// Dockerfile checks a Dockerfile's text (file names it in findings; hasIgnore says whether
// its build context has a .dockerignore). It parses with moby/buildkit's parser; a file that
// does not parse is an error.
func Dockerfile(file string, data []byte, hasIgnore bool) ([]Finding, error) {
	if len(data) > MaxDockerfile {
		return nil, fmt.Errorf("dockerfile %s: %d bytes, at most %d", file, len(data), MaxDockerfile)
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("dockerfile %s: %w", file, err)
	}
	stages := splitStages(res.AST)
	if len(stages) == 0 {
		return nil, fmt.Errorf("dockerfile %s: no FROM instruction", file)
	}
	var fs []Finding
	add := func(rule string, sev Severity, line int, msg, fix string) {
		fs = append(fs, Finding{Rule: rule, Severity: sev, File: file, Line: line, Message: msg, Fix: fix})
	}
	final := stages[len(stages)-1]
	checkUser(final, add)
	checkFinalStage(stages, final, add)
	for _, st := range stages {
		checkBase(st, add)
		for _, in := range st.body {
			checkSecrets(in, add)
			checkAdd(in, add)
		}
	}
	if !hasIgnore {
		add("image/no-dockerignore", Warning, 1, "the build context has no .dockerignore: .git, local env files and build output go into the context and may end up in the image",
			"add a .dockerignore beside the Dockerfile listing .git, *.env, node_modules, build output")
	}
	return applyOverrides(file, string(data), fs), nil
}

type addFunc func(rule string, sev Severity, line int, msg, fix string)

// splitStages groups the instructions by FROM; instructions before the first FROM (ARG) are
// left out.
func splitStages(root *parser.Node) []stage {
	var out []stage
	names := map[string]bool{}
	for _, n := range root.Children {
		in := instruction{cmd: strings.ToLower(n.Value), flags: n.Flags, text: n.Original, line: n.StartLine}
		for a := n.Next; a != nil; a = a.Next {
			in.args = append(in.args, a.Value)
		}
		if in.cmd == "from" {
			st := stage{from: in}
			if len(in.args) > 0 && !names[strings.ToLower(in.args[0])] {
				st.image = in.args[0]
			}
			if len(in.args) == 3 && strings.EqualFold(in.args[1], "as") {
				st.name = strings.ToLower(in.args[2])
				names[st.name] = true
			}
			out = append(out, st)
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].body = append(out[len(out)-1].body, in)
		}
	}
	return out
}

func checkUser(final stage, add addFunc) {
	line, user := final.from.line, ""
	for _, in := range final.body {
		if in.cmd == "user" && len(in.args) > 0 {
			line, user = in.line, in.args[0]
		}
	}
	name, _, _ := strings.Cut(user, ":")
	if user == "" || name == "root" || name == "0" {
		add("image/root-user", Error, line, "the final stage runs as root: a flaw in the app or a dependency owns the whole container",
			"add `USER 10001:10001` (or a named user created in the image) after the last RUN of the final stage")
	}
}

func checkFinalStage(stages []stage, final stage, add addFunc) {
	if len(stages) == 1 && final.image != "scratch" {
		add("image/single-stage", Warning, final.from.line, "one stage: compilers, package managers and sources ship in the image",
			"build in a first stage (FROM golang:1.23 AS build) and COPY --from=build only what runs into a small final stage")
	}
	hc := false
	for _, in := range final.body {
		if in.cmd == "healthcheck" {
			hc = len(in.args) == 0 || !strings.EqualFold(in.args[0], "none")
		}
		checkCaches(in, add)
	}
	if !hc {
		add("image/no-healthcheck", Warning, final.from.line, "the final stage has no HEALTHCHECK: docker and compose cannot tell a hung container from a healthy one",
			"add `HEALTHCHECK CMD [\"/app\", \"-healthcheck\"]` (a binary in the image; scratch images have no curl), and a readiness probe in the spec")
	}
}

var digestRE = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

func checkBase(st stage, add addFunc) {
	img := st.image
	if img == "" || img == "scratch" || strings.Contains(img, "$") {
		return
	}
	if digestRE.MatchString(img) {
		return
	}
	last := img[strings.LastIndex(img, "/")+1:]
	_, tag, ok := strings.Cut(last, ":")
	if !ok || tag == "" || tag == "latest" {
		add("image/unpinned-base", Error, st.from.line, fmt.Sprintf("base image %s has no version: each build may get a different one", img),
			"pin a version tag (node:22.11-alpine3.20), or better a digest (node:22.11-alpine3.20@sha256:...)")
	}
}

func checkSecrets(in instruction, add addFunc) {
	if in.cmd != "env" && in.cmd != "arg" {
		return
	}
	for i, a := range in.args {
		name, _, _ := strings.Cut(a, "=")
		if in.cmd == "env" && i%2 == 1 {
			continue // ENV's arguments are name, value pairs
		}
		if spec.IsSecret(name) {
			add("image/secret-in-build", Error, in.line, fmt.Sprintf("%s %s: a secret in ENV or ARG is kept in the image's layers and history", strings.ToUpper(in.cmd), name),
				"read it at build time with RUN --mount=type=secret,id="+strings.ToLower(name)+", or at run time from `cutover secrets set`")
		}
	}
}

func checkAdd(in instruction, add addFunc) {
	if in.cmd != "add" || hasFlag(in.flags, "--checksum") {
		return
	}
	for _, a := range in.args[:max(len(in.args)-1, 0)] {
		if strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://") {
			add("image/remote-add", Warning, in.line, "ADD of a URL downloads whatever the server sends, unchecked",
				"give ADD --checksum=sha256:..., or RUN curl and check its sha256 in the same RUN")
		}
	}
}

// checkCaches flags package manager caches left in the final stage's layers.
func checkCaches(in instruction, add addFunc) {
	if in.cmd != "run" || strings.Contains(strings.Join(in.flags, " "), "type=cache") {
		return
	}
	cmd := strings.Join(in.args, " ")
	fix := ""
	switch {
	case strings.Contains(cmd, "apt-get install") && !strings.Contains(cmd, "/var/lib/apt/lists"):
		fix = "end the same RUN with `&& rm -rf /var/lib/apt/lists/*`"
	case strings.Contains(cmd, "apk add") && !strings.Contains(cmd, "--no-cache"):
		fix = "use `apk add --no-cache`"
	case strings.Contains(cmd, "pip install") && !strings.Contains(cmd, "--no-cache-dir"):
		fix = "use `pip install --no-cache-dir`"
	default:
		return
	}
	add("image/package-cache", Warning, in.line, "the package manager's cache stays in the final image's layer", fix)
}

func hasFlag(flags []string, name string) bool {
	for _, f := range flags {
		if f == name || strings.HasPrefix(f, name+"=") {
			return true
		}
	}
	return false
}
