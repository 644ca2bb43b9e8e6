// Package memtrim gives back the memory a long-running process holds only because its start
// touched it. A Go binary of cutover's size (≈100 MB, 355 packages initialised at start)
// maps most of its executable into memory while starting: every package's init runs, and the
// kernel maps the cached pages around each page fault (fault-around), so two thirds of the
// daemon's resident memory was pages of its own executable that nothing used again.
// Executable drops those pages from the process; the ones it uses come back on first use,
// from the page cache.
package memtrim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// mapping is one region of /proc/self/smaps.
type mapping struct {
	start, end uint64
	perms      string
	inode      uint64
	anonKB     int64
	rssKB      int64
}

// droppable reports whether m is a read-only private mapping of the file with inode ino that
// holds no page of its own (no copy-on-write page): dropping its pages loses nothing, since
// they are read again from the file as they were.
func (m mapping) droppable(ino uint64) bool {
	return m.inode == ino && ino != 0 && len(m.perms) == 4 && m.perms[0] == 'r' && m.perms[1] == '-' &&
		m.perms[3] == 'p' && m.anonKB == 0 && m.end > m.start
}

// parseSmaps reads the mappings of an smaps file.
func parseSmaps(r io.Reader) ([]mapping, error) {
	var out []mapping
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if m, ok := header(line); ok {
			out = append(out, m)
			continue
		}
		if len(out) == 0 {
			continue
		}
		cur := &out[len(out)-1]
		switch {
		case bytes.HasPrefix(line, []byte("Anonymous:")):
			cur.anonKB = kb(line)
		case bytes.HasPrefix(line, []byte("Rss:")):
			cur.rssKB = kb(line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read smaps: %w", err)
	}
	return out, nil
}

// header parses a mapping's first line: "start-end perms offset dev inode [path]".
func header(line []byte) (mapping, bool) {
	f := strings.Fields(string(line))
	if len(f) < 5 || !strings.Contains(f[0], "-") || strings.HasSuffix(f[0], ":") {
		return mapping{}, false
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	if !ok {
		return mapping{}, false
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	ino, err3 := strconv.ParseUint(f[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return mapping{}, false
	}
	return mapping{start: start, end: end, perms: f[1], inode: ino}, true
}

// kb reads the number of a "Name:   123 kB" line (0 when unreadable).
func kb(line []byte) int64 {
	f := strings.Fields(string(line))
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.ParseInt(f[1], 10, 64)
	return n
}
