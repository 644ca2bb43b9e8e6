package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.25.0", Main: debug.Module{Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"},
			{Key: "vcs.time", Value: "2026-12-07T20:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, c := range []struct {
		name, version, want string
		bi                  *debug.BuildInfo
	}{
		{"vcs", "", "cutover devel (commit 0123456789ab, 2026-12-07T20:00:00Z, modified; go1.25.0)", bi},
		{"given version", "v1.2.0", "cutover v1.2.0 (commit 0123456789ab, 2026-12-07T20:00:00Z, modified; go1.25.0)", bi},
		{"module version", "", "cutover v0.3.0 (go1.24.1)", &debug.BuildInfo{GoVersion: "go1.24.1", Main: debug.Module{Version: "v0.3.0"}}},
	} {
		if got := FromBuildInfo(c.version, c.bi).String(); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
