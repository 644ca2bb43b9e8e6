package spec

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const imageBase = "name: web\nrun:\n  image: app:1.2\n  container:\n"

func TestContainerValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want []string // error paths
	}{
		{"valid", imageBase + "    port: 3000\n    user: \"1000:1000\"\n    memory: 256m\n    cpus: 0.5\n    read_only: true\n" +
			"    healthcheck: {test: [CMD, /healthprobe], interval: 1s, timeout: 2s, retries: 3, start_period: 5s}\n" +
			"    networks: [{name: shop_default, aliases: [web]}]\n" +
			"    mounts: [{volume: shop_data, target: /data}, {source: /srv/token, target: /run/secrets/token, read_only: true}]\n", nil},
		{"without image", "name: web\nrun:\n  command: ./web\n  container: {port: 80}\n", []string{"run.container"}},
		{"port out of range", imageBase + "    port: 70000\n", []string{"run.container.port"}},
		{"memory bad", imageBase + "    memory: lots\n", []string{"run.container.memory"}},
		{"cpus negative", imageBase + "    cpus: -1\n", []string{"run.container.cpus"}},
		{"healthcheck test missing", imageBase + "    healthcheck: {interval: 1s}\n", []string{"run.container.healthcheck.test"}},
		{"healthcheck test form", imageBase + "    healthcheck: {test: [RUN, x]}\n", []string{"run.container.healthcheck.test"}},
		{"healthcheck CMD alone", imageBase + "    healthcheck: {test: [CMD]}\n", []string{"run.container.healthcheck.test"}},
		{"network without name", imageBase + "    networks: [{aliases: [web]}]\n", []string{"run.container.networks[0].name"}},
		{"mount with volume and source", imageBase + "    mounts: [{volume: data, source: /srv, target: /data}]\n", []string{"run.container.mounts[0]"}},
		{"mount relative source", imageBase + "    mounts: [{source: srv, target: /data}]\n", []string{"run.container.mounts[0].source"}},
		{"mount relative target", imageBase + "    mounts: [{volume: data, target: data}]\n", []string{"run.container.mounts[0].target"}},
		{"healthcheck negatives", imageBase + "    healthcheck: {test: [NONE], interval: -1s, retries: -1}\n",
			[]string{"run.container.healthcheck.interval", "run.container.healthcheck.retries"}},
		{"unknown key", imageBase + "    ports: [80]\n", []string{"run.container.ports"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.doc + "route:\n  listen: \":1\"\n"
			_, err := Parse([]byte(doc), "web.yaml")
			var got []string
			var errs Errors
			if errors.As(err, &errs) {
				for _, e := range errs {
					got = append(got, e.Path)
				}
			} else if err != nil {
				t.Fatalf("Parse(%s): %v", tc.name, err)
			}
			if d := cmp.Diff(got, tc.want); d != "" {
				t.Errorf("error paths of %s (-got +want):\n%s\n%v", tc.name, d, err)
			}
		})
	}
}

func TestContainerRoundTrip(t *testing.T) {
	doc := imageBase + "    port: 3000\n    memory: 1g\n    cpus: 1.5\n    healthcheck: {test: [CMD-SHELL, \"curl -f x\"], interval: 2s}\nroute:\n  listen: \":1\"\n"
	s, err := Parse([]byte(doc), "web.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out, "again")
	if err != nil {
		t.Fatalf("parse marshalled spec: %v\n%s", err, out)
	}
	if d := cmp.Diff(again.Run.Container, s.Run.Container); d != "" || !strings.Contains(string(out), "container:") {
		t.Errorf("container after round trip (-got +want):\n%s\n%s", d, out)
	}
}

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"1024", 1024, true}, {"256m", 256 << 20, true}, {"1GiB", 1 << 30, true}, {"512kb", 512 << 10, true},
		{"1.5g", 3 << 29, true}, {"", 0, false}, {"-1m", 0, false}, {"m", 0, false}, {"2x", 0, false}} {
		got, err := ParseBytes(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
