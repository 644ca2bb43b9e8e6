package spec

import (
	"fmt"
	"strings"
)

// Warnings lists what is allowed in a spec but risky in production, one sentence each,
// for `cutover check` and the API's check answer. A valid spec may have warnings.
func Warnings(s *Service) []string {
	var ws []string
	if s.Strategy.Recreate != nil {
		ws = append(ws, "strategy recreate stops every instance before starting the new ones: requests fail until the new revision is ready")
	}
	if c := s.Strategy.Canary; c != nil && !c.Analysis.HasMetric() {
		ws = append(ws, "canary analysis judges nothing (errors and latency are false, no max_error_rate or max_p99): a bad canary is never rolled back by itself")
	}
	if s.Run.Image != "" && !PinnedImage(s.Run.Image) {
		ws = append(ws, fmt.Sprintf("image %s has no pinned tag; pin a digest", s.Run.Image))
	}
	return ws
}

// PinnedImage reports whether an image reference has a digest or a tag other than latest.
// A registry port ("registry:5000/app") is not a tag.
func PinnedImage(ref string) bool {
	if strings.Contains(ref, "@") {
		return true
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	_, tag, ok := strings.Cut(last, ":")
	return ok && tag != "" && tag != "latest"
}
