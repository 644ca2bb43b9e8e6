package memtrim

import (
	"fmt"
	"os"
	"syscall"
)

// Executable drops the resident pages of the running executable's read-only mappings that
// hold no copy-on-write page (its code and read-only data; never its writable data) and
// returns how many KiB were resident in them. Safe to call while the process runs: a page
// dropped is read again from the executable on its next use.
func Executable() (int64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/exe", &st); err != nil {
		return 0, fmt.Errorf("trim executable: %w", err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, fmt.Errorf("trim executable: %w", err)
	}
	ms, err := parseSmaps(f)
	f.Close()
	if err != nil {
		return 0, fmt.Errorf("trim executable: %w", err)
	}
	var dropped int64
	for _, m := range ms {
		if !m.droppable(st.Ino) {
			continue
		}
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), syscall.MADV_DONTNEED); e != 0 {
			return dropped, fmt.Errorf("trim executable: madvise %x-%x: %w", m.start, m.end, e)
		}
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), syscall.MADV_RANDOM); e != 0 {
			return dropped, fmt.Errorf("trim executable: madvise %x-%x: %w", m.start, m.end, e)
		}
		dropped += m.rssKB
	}
	return dropped, nil
}
