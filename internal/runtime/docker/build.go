package docker

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/docker/api/types/build"

	cerrdefs "github.com/containerd/errdefs"
)

// BuildSpec is one image build: a directory as context, the Dockerfile in it, build args
// and target stage, and the tag to give the image.
type BuildSpec struct {
	Context    string
	Dockerfile string // relative to Context; "Dockerfile" when empty
	Args       map[string]string
	Target     string
	Tag        string
}

// Build builds spec through the Engine API, writing the builder's progress lines to
// progress, and returns the image ID the tag names afterwards. A failing step is an error
// with the builder's own message; the tag is then left as it was.
func (d *Driver) Build(ctx context.Context, spec BuildSpec, progress io.Writer) (string, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarDir(pw, spec.Context)) }()
	defer pr.Close()
	args := map[string]*string{}
	for k, v := range spec.Args {
		args[k] = &v
	}
	df := spec.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	resp, err := d.cli.ImageBuild(ctx, pr, build.ImageBuildOptions{Tags: []string{spec.Tag}, Dockerfile: df,
		BuildArgs: args, Target: spec.Target, Remove: true, ForceRemove: true})
	if err != nil {
		return "", fmt.Errorf("build %s: %w", spec.Tag, err)
	}
	defer resp.Body.Close()
	if err := buildProgress(resp.Body, progress); err != nil {
		return "", fmt.Errorf("build %s: %w", spec.Tag, err)
	}
	img, _, err := d.cli.ImageInspectWithRaw(ctx, spec.Tag)
	if err != nil {
		return "", fmt.Errorf("build %s: inspect the built image: %w", spec.Tag, err)
	}
	return img.ID, nil
}

// buildProgress copies the builder's stream lines to w and returns its first error.
func buildProgress(r io.Reader, w io.Writer) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read build output: %w", err)
		}
		if m.Error != "" {
			return errors.New(strings.TrimSpace(m.Error))
		}
		if m.Stream != "" && w != nil {
			io.WriteString(w, m.Stream)
		}
	}
}

// tarDir writes dir as a tar stream, paths relative to it; symbolic links stay links.
func tarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("tar build context %s: %w", dir, err)
	}
	return tw.Close()
}

// ImageID is the ID of the local image ref names, "" when there is none.
func (d *Driver) ImageID(ctx context.Context, ref string) (string, error) {
	img, _, err := d.cli.ImageInspectWithRaw(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return img.ID, nil
}
