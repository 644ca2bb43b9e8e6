package preflight

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ruleLines renders findings as "rule:line", sorted, for comparison.
func ruleLines(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		s := fmt.Sprintf("%s:%d", f.Rule, f.Line)
		if f.Override != "" {
			s += " overridden"
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestGuidesDockerfilesPass checks the guides' own multi-stage Dockerfiles (Node, Go,
// Python): nothing to report.
func TestGuidesDockerfilesPass(t *testing.T) {
	for _, name := range []string{"node", "go", "python"} {
		data, err := os.ReadFile("testdata/" + name + ".Dockerfile")
		if err != nil {
			t.Fatal(err)
		}
		fs, err := Dockerfile(name, data, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 0 {
			t.Errorf("findings of the %s Dockerfile: %v, want none", name, ruleLines(fs))
		}
	}
}

// badDockerfile checks testdata/bad.Dockerfile, whose context has no .dockerignore.
func badDockerfile(t *testing.T) []Finding {
	t.Helper()
	data, err := os.ReadFile("testdata/bad.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Dockerfile("bad.Dockerfile", data, false)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestBadDockerfile checks a Dockerfile that breaks every image rule, each at its line.
func TestBadDockerfile(t *testing.T) {
	fs := badDockerfile(t)
	want := []string{"image/no-dockerignore:1", "image/no-healthcheck:1", "image/package-cache:4", "image/package-cache:5",
		"image/remote-add:6", "image/root-user:1", "image/secret-in-build:2", "image/secret-in-build:3",
		"image/single-stage:1", "image/unpinned-base:1"}
	if diff := cmp.Diff(ruleLines(fs), want); diff != "" {
		t.Errorf("findings (-got +want):\n%s", diff)
	}
	for _, f := range fs {
		if f.Fix == "" || f.Message == "" || f.File != "bad.Dockerfile" {
			t.Errorf("finding %+v lacks a fix, a message or its file", f)
		}
		if strings.Contains(f.Message+f.Fix, "abc123") {
			t.Errorf("finding %s quotes the secret's value", f.Rule)
		}
	}
	if n := Blocking(fs); n != 4 {
		t.Errorf("blocking findings: %d, want 4 (root, unpinned, two secrets)", n)
	}
}

// TestDockerfileRules gives each rule a file it must flag and one it must not.
func TestDockerfileRules(t *testing.T) {
	const good = "FROM golang:1.23 AS build\nRUN go build\nFROM scratch\nCOPY --from=build /a /a\nUSER 10001\nHEALTHCHECK CMD [\"/a\"]\n"
	for _, tc := range []struct {
		name, rule, doc string
		want            []string
	}{
		{"user root at the end", "image/root-user", strings.Replace(good, "USER 10001", "USER 10001\nUSER root", 1), []string{"image/root-user:6"}},
		{"user 0:0", "image/root-user", strings.Replace(good, "USER 10001", "USER 0:0", 1), []string{"image/root-user:5"}},
		{"user in a build stage only", "image/root-user", "FROM golang:1.23 AS build\nUSER 1000\nFROM scratch\nHEALTHCHECK CMD [\"/a\"]\n", []string{"image/root-user:3"}},
		{"healthcheck none", "image/no-healthcheck", strings.Replace(good, `HEALTHCHECK CMD ["/a"]`, "HEALTHCHECK NONE", 1), []string{"image/no-healthcheck:3"}},
		{"latest", "image/unpinned-base", strings.Replace(good, "golang:1.23", "golang:latest", 1), []string{"image/unpinned-base:1"}},
		{"registry port is no tag", "image/unpinned-base", strings.Replace(good, "golang:1.23", "registry:5000/golang", 1), []string{"image/unpinned-base:1"}},
		{"digest", "image/unpinned-base", strings.Replace(good, "golang:1.23", "golang@sha256:"+strings.Repeat("a", 64), 1), nil},
		{"stage name", "image/unpinned-base", good + "FROM build AS again\nUSER 1\nHEALTHCHECK CMD [\"/a\"]\n", nil},
		{"add with checksum", "image/remote-add", good + "ADD --checksum=sha256:" + strings.Repeat("b", 64) + " https://x.example/t.tgz /t\n", nil},
		{"add of a local file", "image/remote-add", good + "ADD app.tgz /srv\n", nil},
		{"apk without no-cache", "image/package-cache", good + "RUN apk add curl\n", []string{"image/package-cache:7"}},
		{"apk no-cache", "image/package-cache", good + "RUN apk add --no-cache curl\n", nil},
		{"cache mount", "image/package-cache", good + "RUN --mount=type=cache,target=/root/.cache pip install x\n", nil},
		{"cache in a build stage", "image/package-cache", "FROM python:3.12 AS b\nRUN pip install x\n" + strings.TrimPrefix(good, "FROM golang:1.23 AS build\n"), nil},
		{"env secret", "image/secret-in-build", good + "ENV DB_PASSWORD=x\n", []string{"image/secret-in-build:7"}},
		{"env value named like a secret", "image/secret-in-build", good + "ENV MODE=API_KEY\n", nil},
		{"single stage", "image/single-stage", "FROM alpine:3.20\nUSER 1\nHEALTHCHECK CMD [\"true\"]\n", []string{"image/single-stage:1"}},
		{"override with reason", "image/single-stage", "# +cutover check-override image/single-stage reason: the base is distroless already\nFROM alpine:3.20\nUSER 1\nHEALTHCHECK CMD [\"true\"]\n",
			[]string{"image/single-stage:2 overridden"}},
		{"override without reason", "check/override-without-reason", "# +cutover check-override image/single-stage\nFROM alpine:3.20\nUSER 1\nHEALTHCHECK CMD [\"true\"]\n",
			[]string{"check/override-without-reason:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := Dockerfile("Dockerfile", []byte(tc.doc), true)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, s := range ruleLines(fs) {
				if strings.HasPrefix(s, tc.rule+":") {
					got = append(got, s)
				}
			}
			if diff := cmp.Diff(got, append([]string{}, tc.want...)); diff != "" {
				t.Errorf("%s findings of %s (-got +want):\n%s", tc.rule, tc.name, diff)
			}
		})
	}
}

func TestDockerfileRefused(t *testing.T) {
	for name, doc := range map[string]string{"no FROM": "RUN true\n", "too big": strings.Repeat("#", MaxDockerfile+1)} {
		if _, err := Dockerfile("Dockerfile", []byte(doc), true); err == nil {
			t.Errorf("Dockerfile(%s): no error", name)
		}
	}
}
