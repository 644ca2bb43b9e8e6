package coordinator

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/migrate"
	"github.com/cutover/cutover/internal/spec"
)

// TestContractLimit: contract parts run in version order, each only once its expand is
// applied and every running revision carries it.
func TestContractLimit(t *testing.T) {
	mig := func(v int, contract string) migrate.Migration {
		m := migrate.Migration{Version: v, Expand: &migrate.Section{Checksum: "e"}}
		if contract != "" {
			m.Contract = &migrate.Section{Checksum: contract}
		}
		return m
	}
	migs := []migrate.Migration{mig(0, "c0"), mig(1, ""), mig(2, "c2"), mig(3, "c3")}
	expanded := func(contracted ...int) []migrate.State {
		var out []migrate.State
		for _, m := range migs {
			st := migrate.State{Version: m.Version, Expand: &migrate.Applied{}}
			for _, c := range contracted {
				if c == m.Version {
					st.Contract = &migrate.Applied{}
				}
			}
			out = append(out, st)
		}
		return out
	}
	carries := func(parts ...spec.MigrationPart) *spec.Database { return &spec.Database{Parts: parts} }
	all := carries(spec.MigrationPart{Version: 0, Contract: "c0"}, spec.MigrationPart{Version: 2, Contract: "c2"}, spec.MigrationPart{Version: 3, Contract: "c3"})
	old := carries(spec.MigrationPart{Version: 0, Contract: "c0"})
	cases := []struct {
		name    string
		states  []migrate.State
		running map[int]*spec.Database
		ready   int    // length of the prefix of migs that may run
		blocked string // "" or a part of the reason
	}{
		{"nothing running", expanded(), nil, 4, ""},
		{"every running revision carries all", expanded(), map[int]*spec.Database{2: all}, 4, ""},
		{"an old revision predates 2 and 3", expanded(), map[int]*spec.Database{1: old, 2: all}, 1, "revision(s) [1]"},
		{"a revision without database predates all", expanded(), map[int]*spec.Database{1: nil}, 0, "migration 0"},
		{"changed contract text is not carried", expanded(0), map[int]*spec.Database{2: carries(spec.MigrationPart{Version: 2, Contract: "other"})}, 0, "migration 2"},
		{"applied contracts are skipped", expanded(0, 2, 3), map[int]*spec.Database{1: nil}, 0, ""},
		{"expand not applied stops", []migrate.State{{Version: 0, Expand: &migrate.Applied{}}}, nil, 1, "expand is not applied"},
	}
	for _, c := range cases {
		ready, blocked := contractLimit(migs, c.states, c.running)
		if len(ready) != c.ready || (c.blocked == "") != (blocked == "") || !strings.Contains(blocked, c.blocked) {
			t.Errorf("%s: ready %d, blocked %q; want %d, %q", c.name, len(ready), blocked, c.ready, c.blocked)
		}
	}
}
