// Package testdisk gives tests real file systems that fail the way a host's disk does: a
// small tmpfs that fills up, and a loop-mounted ext4 image that turns read-only on an error
// (errors=remount-ro), as a disk with I/O errors does. It needs root, as CI has; without
// root a test using it is skipped, except under CI=true, where it fails.
//
// It is for tests only and must not be imported by production code.
package testdisk

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// need fails or skips t when the process cannot mount file systems.
func need(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("testdisk: mounting a file system needs root, and CI must run this test")
	}
	t.Skip("testdisk: mounting a file system needs root")
}

// Tmpfs mounts a tmpfs of size bytes (mode 0700) in a new temporary directory and returns
// its path; it is unmounted when the test ends.
func Tmpfs(t testing.TB, size int64) string {
	t.Helper()
	need(t)
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	opts := "size=" + strconv.FormatInt(size, 10) + ",mode=0700"
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Fatalf("testdisk: mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() { unmount(t, dir) })
	return dir
}

// Fill writes a file in dir until the file system has no space left, and returns a
// function that removes it again.
func Fill(t testing.TB, dir string) (free func()) {
	t.Helper()
	f, err := os.CreateTemp(dir, "filler-*")
	if err != nil {
		t.Fatalf("testdisk: fill %s: %v", dir, err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("testdisk: fill %s: %v", dir, err)
			}
			break
		}
	}
	// Single bytes too, so that not even a page is left.
	for {
		if _, err := f.Write(buf[:1]); err != nil {
			break
		}
	}
	name := f.Name()
	return func() {
		t.Helper()
		if err := os.Remove(name); err != nil {
			t.Fatalf("testdisk: free %s: %v", dir, err)
		}
	}
}

// Ext4 is an ext4 file system in an image file, loop-mounted with errors=remount-ro.
type Ext4 struct {
	// Dir is where it is mounted.
	Dir   string
	image string
}

// NewExt4 makes and mounts an ext4 image of sizeMB megabytes; it is unmounted when the test
// ends.
func NewExt4(t testing.TB, sizeMB int) *Ext4 {
	t.Helper()
	need(t)
	base := t.TempDir()
	e := &Ext4{Dir: filepath.Join(base, "ext4"), image: filepath.Join(base, "ext4.img")}
	if err := os.Mkdir(e.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	run(t, "truncate", "-s", strconv.Itoa(sizeMB)+"M", e.image)
	run(t, "mkfs.ext4", "-q", "-F", e.image)
	e.Mount(t)
	t.Cleanup(func() { unmount(t, e.Dir) })
	return e
}

// Mount mounts the image at Dir.
func (e *Ext4) Mount(t testing.TB) {
	t.Helper()
	run(t, "mount", "-o", "loop,errors=remount-ro", e.image, e.Dir)
}

// Fail reports a file-system error to the kernel, which turns the mount read-only at once,
// even with files open for writing: what a disk with I/O errors does.
func (e *Ext4) Fail(t testing.TB) {
	t.Helper()
	src, err := exec.Command("findmnt", "-no", "SOURCE", e.Dir).Output()
	if err != nil {
		t.Fatalf("testdisk: find device of %s: %v", e.Dir, err)
	}
	dev := filepath.Base(string(bytes.TrimRight(src, "\n ")))
	trigger := filepath.Join("/sys/fs/ext4", dev, "trigger_fs_error")
	if err := os.WriteFile(trigger, []byte("1"), 0o200); err != nil {
		t.Fatalf("testdisk: trigger an error on %s: %v", e.Dir, err)
	}
}

// Repair unmounts the file system, checks it (e2fsck -fy) and mounts it again read-write.
// Nothing may have it open.
func (e *Ext4) Repair(t testing.TB) {
	t.Helper()
	run(t, "umount", e.Dir)
	// A mount namespace cloned while the file system was mounted (a container starting at
	// that moment) keeps its superblock alive for a while after the umount; checking the
	// image under it, or mounting it again, would reuse the read-only superblock.
	e.waitDetached(t)
	// e2fsck exits 1 when it fixed something (the error flag it was told about).
	if out, err := exec.Command("e2fsck", "-fy", e.image).CombinedOutput(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() > 1 {
			t.Fatalf("testdisk: e2fsck %s: %v\n%s", e.image, err, out)
		}
	}
	e.Mount(t)
}

// waitDetached waits until no loop device holds the image any more: the kernel has let go
// of the file system.
func (e *Ext4) waitDetached(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := exec.Command("losetup", "-j", e.image).Output()
		if err != nil {
			t.Fatalf("testdisk: losetup -j %s: %v", e.image, err)
		}
		if len(bytes.TrimRight(out, "\n ")) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testdisk: %s is still attached a minute after its umount: %s", e.image, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("testdisk: %s %v: %v\n%s", name, args, err, out)
	}
}

// unmount unmounts dir if it is mounted, lazily if something still has it open.
func unmount(t testing.TB, dir string) {
	t.Helper()
	if err := syscall.Unmount(dir, 0); err == nil || errors.Is(err, syscall.EINVAL) {
		return
	}
	if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
		t.Errorf("testdisk: unmount %s: %v", dir, err)
	}
}

// KillHolders kills (SIGKILL) every process but this one with a file open under dir, and
// waits until they are gone: what a reboot does before a file system can be repaired.
func KillHolders(t testing.TB, dir string) {
	t.Helper()
	for _, pid := range holders(dir) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("testdisk: kill %d: %v", pid, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(holders(dir)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("testdisk: processes %v still hold files under %s", holders(dir), dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// holders lists the processes but this one with a file open under dir.
func holders(dir string) []int {
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	seen := map[int]bool{}
	var pids []int
	for _, fd := range fds {
		target, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(target, dir+"/") {
			continue
		}
		pid, err := strconv.Atoi(strings.Split(fd, "/")[2])
		if err != nil || pid == os.Getpid() || seen[pid] {
			continue
		}
		seen[pid] = true
		pids = append(pids, pid)
	}
	return pids
}
