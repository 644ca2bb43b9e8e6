package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestReleaseScript runs scripts/release end to end for two of its four targets (each is a
// whole cold compile with -trimpath: the four took 13 minutes here under load): linux on this
// machine's architecture, which runs and names the version, and darwin/arm64, so that a file
// built for linux only shows. Each archive is named after the version, listed in SHA256SUMS
// with its right checksum, and holds the binary, README.md and the systemd unit.
func TestReleaseScript(t *testing.T) {
	const version = "v0.0.0-releasetest.1"
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	targets := []string{"linux_" + runtime.GOARCH, "darwin_arm64"}
	cmd := exec.CommandContext(ctx, "bash", "../../scripts/release", version, out)
	cmd.Env = append(os.Environ(), "RELEASE_TARGETS=linux/"+runtime.GOARCH+" darwin/arm64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/release: %v\n%s", err, b)
	}
	sums := readSums(t, filepath.Join(out, "SHA256SUMS"))
	var names []string
	for _, target := range targets {
		name := "cutover_" + version + "_" + target + ".tar.gz"
		names = append(names, name)
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatalf("archive for %s: %v", target, err)
		}
		sum := sha256.Sum256(data)
		if sums[name] != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: SHA256SUMS says %q, the file's checksum is %x", name, sums[name], sum)
		}
	}
	if got := slices.Sorted(maps.Keys(sums)); !slices.Equal(got, slices.Sorted(slices.Values(names))) {
		t.Errorf("SHA256SUMS lists %v, want %v", got, names)
	}
	dir := t.TempDir()
	files := untar(t, filepath.Join(out, "cutover_"+version+"_linux_"+runtime.GOARCH+".tar.gz"), dir)
	prefix := "cutover_" + version + "_linux_" + runtime.GOARCH + "/"
	for _, want := range []string{"cutover", "README.md", "cutover.service"} {
		if !slices.Contains(files, prefix+want) {
			t.Errorf("archive holds %v, want %s", files, prefix+want)
		}
	}
	got, err := exec.CommandContext(ctx, filepath.Join(dir, prefix, "cutover"), "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(got), version) {
		t.Fatalf("released cutover --version: %q, %v; want it to name %s", got, err, version)
	}
}

func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q: want SUM  NAME", sc.Text())
		}
		out[name] = sum
	}
	return out
}

// untar extracts the regular files of a .tar.gz into dir and returns their names.
func untar(t *testing.T, archive, dir string) []string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		} else if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg || strings.Contains(h.Name, "..") {
			continue
		}
		names = append(names, h.Name)
		p := filepath.Join(dir, h.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		w, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, os.FileMode(h.Mode)&0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, io.LimitReader(tr, 1<<30)); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
}
