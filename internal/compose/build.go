package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/cutover/cutover/internal/stack"
)

// buildTag is the tag a build is given: the project and service, and a digest of what goes
// into the build (every file of the context, its path and mode, the Dockerfile, args and
// target), so the same inputs give the same tag. A context that cannot be read gets the
// tag "unreadable"; validation reports why.
func buildTag(project, service string, b *stack.Build) string {
	d, err := ContextDigest(b)
	if err != nil {
		d = "unreadable"
	}
	return fmt.Sprintf("cutover-build/%s-%s:%s", project, service, d)
}

// ContextDigest is the first 16 hex digits of the SHA-256 of a build's inputs.
func ContextDigest(b *stack.Build) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "dockerfile %q\ntarget %q\n", b.Dockerfile, b.Target)
	for _, k := range slices.Sorted(maps.Keys(b.Args)) {
		fmt.Fprintf(h, "arg %q=%q\n", k, b.Args[k])
	}
	err := filepath.WalkDir(b.Context, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(b.Context, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "file %q %v %d\n", rel, info.Mode(), info.Size())
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("digest build context %s: %w", b.Context, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
