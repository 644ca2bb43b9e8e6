package migrate

import (
	"fmt"
	"strings"
)

// ChecksumError reports an applied part whose section in the file has changed since.
type ChecksumError struct {
	File    string
	Version int
	Phase   Phase
	Applied string // checksum recorded when the part was applied
	Current string // checksum of the section in the file now
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: %s part of migration %d changed after it was applied (applied sha256 %s, file now sha256 %s); restore the file and put the change in a new migration",
		e.File, e.Phase, e.Version, e.Applied, e.Current)
}

// checksumErrors compares the applied parts of st with m's sections.
func checksumErrors(m Migration, st *State) []*ChecksumError {
	var out []*ChecksumError
	for _, a := range []*Applied{st.Expand, st.Contract} {
		if a == nil {
			continue
		}
		sec := m.Section(a.Phase)
		if sec != nil && sec.Checksum != a.Checksum {
			out = append(out, &ChecksumError{File: m.File, Version: m.Version, Phase: a.Phase, Applied: a.Checksum, Current: sec.Checksum})
		}
	}
	return out
}

// StatementError reports the statement of a migration that the database refused. Every
// migration before it is applied; this one is not (or, for a no-transaction migration, its
// statements before Line are).
type StatementError struct {
	File    string
	Line    int
	Version int
	Phase   Phase
	SQL     string
	Err     error
}

func (e *StatementError) Error() string {
	sql := strings.Join(strings.Fields(e.SQL), " ")
	if len(sql) > 120 {
		sql = sql[:117] + "..."
	}
	return fmt.Sprintf("%s:%d: %s of migration %d: %s: %v", e.File, e.Line, e.Phase, e.Version, sql, e.Err)
}

func (e *StatementError) Unwrap() error { return e.Err }
