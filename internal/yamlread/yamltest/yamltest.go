// Package yamltest holds what the tests of every YAML input share: the outside review's
// anchor-redefinition bomb and a measure of what a call allocates. It is for tests only.
package yamltest

import (
	"fmt"
	"runtime"
	"strings"
)

// RedefinitionBomb is the review's reproduction of issue 14's finding 4: levels lists of nine
// aliases to the list before, every anchor then redefined to a scalar. A guard that follows
// an alias to its anchor's last definition sees a few values; a decoder builds 9^levels. With
// key set, the document sits under that top-level key (an extension key of a compose file,
// say), indented by two spaces.
func RedefinitionBomb(key string, levels int) string {
	var b strings.Builder
	indent := ""
	if key != "" {
		b.WriteString(key + ":\n")
		indent = "  "
	}
	fmt.Fprintf(&b, "%sl0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n", indent)
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, "%sl%d: &a%d [%s]\n", indent, i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), ", "))
	}
	b.WriteString(indent + "redefined: [")
	for i := range levels {
		fmt.Fprintf(&b, "&a%d x, ", i)
	}
	b.WriteString("]\n")
	return b.String()
}

// Allocated returns the bytes f allocates on the heap, freed or not: a bound on how far the
// heap can grow while f runs.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
