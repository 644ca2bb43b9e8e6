package memtrim

import (
	"strings"
	"testing"
)

const smaps = `00400000-00c00000 r-xp 00000000 08:01 1234                               /usr/bin/cutover
Size:               8192 kB
Rss:                6000 kB
Anonymous:             0 kB
00c00000-01000000 r--p 00800000 08:01 1234                               /usr/bin/cutover
Rss:                3000 kB
Anonymous:             0 kB
01000000-01100000 rw-p 00c00000 08:01 1234                               /usr/bin/cutover
Rss:                 900 kB
Anonymous:           200 kB
01100000-01200000 r--p 00d00000 08:01 1234                               /usr/bin/cutover
Rss:                  40 kB
Anonymous:             8 kB
7f0000000000-7f0000100000 r-xp 00000000 08:01 99                         /usr/lib/libc.so.6
Rss:                 800 kB
Anonymous:             0 kB
7f0000200000-7f0000300000 rw-p 00000000 00:00 0
Rss:                1024 kB
Anonymous:          1024 kB
`

// Only the executable's read-only private mappings without a copy-on-write page are
// dropped: never its writable data, a relocated read-only page (relro), another file or
// anonymous memory.
func TestDroppable(t *testing.T) {
	ms, err := parseSmaps(strings.NewReader(smaps))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 6 {
		t.Fatalf("%d mappings parsed, want 6: %+v", len(ms), ms)
	}
	var got []uint64
	var kb int64
	for _, m := range ms {
		if m.droppable(1234) {
			got = append(got, m.start)
			kb += m.rssKB
		}
	}
	if len(got) != 2 || got[0] != 0x400000 || got[1] != 0xc00000 || kb != 9000 {
		t.Errorf("droppable mappings %x (%d kB), want the code and read-only data of inode 1234 (9000 kB)", got, kb)
	}
	if ms[0].droppable(0) {
		t.Error("inode 0 (anonymous) matched")
	}
}

var written = []int{1, 2, 3} // in the executable's writable data, changed below

// Trimming the running test binary drops resident pages and loses nothing: code runs, read-
// only data reads, and writable data keeps what was written to it.
func TestExecutableKeepsTheProcessWhole(t *testing.T) {
	written[1] = 42
	kb, err := Executable()
	if err != nil {
		t.Fatal(err)
	}
	if kb <= 0 {
		t.Errorf("Executable dropped %d KiB, want some", kb)
	}
	if written[0] != 1 || written[1] != 42 || written[2] != 3 {
		t.Fatalf("writable data after the trim: %v, want [1 42 3]", written)
	}
	if ms, err := parseSmaps(strings.NewReader(smaps)); err != nil || len(ms) != 6 {
		t.Fatalf("code after the trim: %d mappings, %v", len(ms), err)
	}
}
