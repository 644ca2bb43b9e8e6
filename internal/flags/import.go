package flags

import (
	"context"
	"maps"
	"slices"
)

// ImportOptions configures Manager.Import.
type ImportOptions struct {
	// Prune deletes flags and segments that the file does not mention.
	Prune bool
	// DryRun validates and reports what would change without changing anything.
	DryRun bool
}

// ImportResult lists what an import changed (or, in a dry run, would change).
type ImportResult struct {
	Changes []Record `json:"changes"`
}

// Import applies a flags-as-code YAML file on behalf of actor, as one atomic, audited change
// (action "import"). On any problem it returns a *ValidationError listing every one with its
// line and column, and imports nothing.
func (m *Manager) Import(ctx context.Context, actor string, data []byte, opts ImportOptions) (ImportResult, error) {
	m.write.Lock()
	defer m.write.Unlock()
	cur := m.snap.Load()
	known := cur.segments
	if opts.Prune {
		known = nil // pruned segments are gone: the file must define what it uses
	}
	doc, err := ParseDocument(data, known)
	if err != nil {
		return ImportResult{}, err
	}
	changes := importChanges(cur, doc, opts.Prune)
	if opts.DryRun {
		recs, err := records(cur, changes, actor, "import", m.now())
		return ImportResult{Changes: recs}, err
	}
	recs, err := m.apply(ctx, actor, "import", changes)
	return ImportResult{Changes: recs}, err
}

// importChanges turns a document into changes: segments first, then flags, then deletions.
func importChanges(cur *Snapshot, doc *Document, prune bool) []change {
	var changes []change
	inFile := map[string]bool{}
	for i := range doc.Segments {
		s := &doc.Segments[i]
		changes = append(changes, change{kind: KindSegment, key: s.Name, segment: s})
		inFile["s/"+s.Name] = true
	}
	for i := range doc.Flags {
		f := &doc.Flags[i]
		changes = append(changes, change{kind: KindFlag, key: f.Key, flag: f})
		inFile["f/"+f.Key] = true
	}
	if !prune {
		return changes
	}
	for _, k := range cur.keys {
		if !inFile["f/"+k] {
			changes = append(changes, change{kind: KindFlag, key: k})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(cur.segments)) {
		if !inFile["s/"+k] {
			changes = append(changes, change{kind: KindSegment, key: k})
		}
	}
	return changes
}

// Export returns every segment and flag as a flags-as-code YAML file that Import accepts.
func (m *Manager) Export() ([]byte, error) {
	fs, err := m.Flags()
	if err != nil {
		return nil, err
	}
	return MarshalDocument(&Document{Segments: m.Segments(), Flags: fs})
}
