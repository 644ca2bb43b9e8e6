// Package buildinfo says what this binary knows about its own build: the version it was
// given (or its module's), the commit, the commit's time, whether the tree was modified and
// the Go version. `cutover --version`, `cutover version` and GET /v1/daemon all read it, so
// they agree. It reads only runtime/debug and holds no state.
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Info is one binary's build information.
type Info struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Time     string `json:"commit_time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

// Read returns this binary's build information. Version is version when not empty, else the
// main module's version, else "devel".
func Read(version string) Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: orDevel(version, ""), Go: "unknown"}
	}
	return FromBuildInfo(version, bi)
}

// FromBuildInfo is Read over a given debug.BuildInfo.
func FromBuildInfo(version string, bi *debug.BuildInfo) Info {
	info := Info{Version: orDevel(version, bi.Main.Version), Go: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

func orDevel(version, module string) string {
	switch {
	case version != "":
		return version
	case module != "" && module != "(devel)":
		return module
	}
	return "devel"
}

// String is the one line `cutover --version` prints:
// "cutover v1.2.0 (commit 0123abcd4567, 2026-12-07T20:00:00Z, modified; go1.25.0)".
func (i Info) String() string {
	var parts []string
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		parts = append(parts, "commit "+c)
	}
	if i.Time != "" {
		parts = append(parts, i.Time)
	}
	if i.Modified {
		parts = append(parts, "modified")
	}
	build := i.Go
	if len(parts) > 0 {
		build = strings.Join(parts, ", ") + "; " + i.Go
	}
	return fmt.Sprintf("cutover %s (%s)", i.Version, build)
}
