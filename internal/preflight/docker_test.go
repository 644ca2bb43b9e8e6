package preflight

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
)

// TestCheckAgreesWithBuiltImage builds two Dockerfiles with the real Docker engine (FROM
// scratch around the static demo app) and reads back the images' config: the one the check
// passes runs as a non-root user with a HEALTHCHECK; the one it flags runs as root, has no
// HEALTHCHECK and carries the ENV secret in its config, as the findings say.
func TestCheckAgreesWithBuiltImage(t *testing.T) {
	cli := dockertest.Client(t)
	ctx := context.Background()
	dir := t.TempDir()
	if err := dockertest.StaticBinaries(dir); err != nil {
		t.Fatal(err)
	}
	files := map[string]dockertest.File{".dockerignore": {Data: []byte(".git\n")}}
	for _, name := range []string{"demoapp", "healthprobe"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = dockertest.File{Data: b, Mode: 0o755}
	}
	good := "FROM scratch AS build\nCOPY demoapp healthprobe /\n\nFROM scratch\nCOPY --from=build /demoapp /healthprobe /\n" +
		"USER 10001:10001\nHEALTHCHECK --interval=1s CMD [\"/healthprobe\"]\nENTRYPOINT [\"/demoapp\"]\n"
	bad := "FROM scratch\nCOPY demoapp /\nENV SESSION_SECRET=built-in-0123\nENTRYPOINT [\"/demoapp\"]\n"
	for _, tc := range []struct {
		name, dockerfile string
		want             []string
	}{
		{"good", good, []string{}},
		{"bad", bad, []string{"image/no-healthcheck:1", "image/root-user:1", "image/secret-in-build:3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := Dockerfile("Dockerfile", []byte(tc.dockerfile), true)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ruleLines(fs), tc.want); diff != "" {
				t.Fatalf("findings (-got +want):\n%s", diff)
			}
			tag := "cutover-preflight:test-" + tc.name
			files["Dockerfile"] = dockertest.File{Data: []byte(tc.dockerfile)}
			if err := dockertest.Build(ctx, cli, tag, files); err != nil {
				t.Fatal(err)
			}
			img, err := cli.ImageInspect(ctx, tag)
			if err != nil {
				t.Fatal(err)
			}
			root := img.Config.User == "" || strings.HasPrefix(img.Config.User, "0") || strings.HasPrefix(img.Config.User, "root")
			flagged := func(rule string) bool { return slices.ContainsFunc(fs, func(f Finding) bool { return f.Rule == rule }) }
			if root != flagged("image/root-user") {
				t.Errorf("image user %q, root-user flagged %v", img.Config.User, flagged("image/root-user"))
			}
			if (img.Config.Healthcheck == nil) != flagged("image/no-healthcheck") {
				t.Errorf("image healthcheck %+v, no-healthcheck flagged %v", img.Config.Healthcheck, flagged("image/no-healthcheck"))
			}
			inEnv := slices.ContainsFunc(img.Config.Env, func(e string) bool { return strings.HasPrefix(e, "SESSION_SECRET=") })
			if inEnv != flagged("image/secret-in-build") {
				t.Errorf("image env %v, secret-in-build flagged %v", img.Config.Env, flagged("image/secret-in-build"))
			}
		})
	}
}
