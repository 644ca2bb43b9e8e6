package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWarnings(t *testing.T) {
	recreate := "strategy recreate stops every instance before starting the new ones: requests fail until the new revision is ready"
	for _, tc := range []struct {
		name  string
		extra string
		image string
		want  []string
	}{
		{"rolling with one replica", "", "", nil},
		{"recreate", "strategy:\n  recreate: {}\n", "", []string{recreate}},
		{"canary judging nothing", "strategy:\n  canary:\n    steps: [weight: 5]\n    analysis: {errors: false, latency: false}\n", "",
			[]string{"canary analysis judges nothing (errors and latency are false, no max_error_rate or max_p99): a bad canary is never rolled back by itself"}},
		{"canary with default analysis", "strategy:\n  canary:\n    steps: [weight: 5]\n", "", nil},
		{"image latest", "", "app:latest", []string{"image app:latest has no pinned tag; pin a digest"}},
		{"image without tag", "", "registry:5000/team/app", []string{"image registry:5000/team/app has no pinned tag; pin a digest"}},
		{"image with tag", "", "registry:5000/app:1.2.3", nil},
		{"image with digest", "", "app@sha256:abc", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, []byte(base+tc.extra))
			s.Run.Image = tc.image
			if diff := cmp.Diff(tc.want, Warnings(s)); diff != "" {
				t.Errorf("Warnings (-want +got):\n%s", diff)
			}
		})
	}
}
