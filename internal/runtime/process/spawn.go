package process

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"syscall"

	"github.com/cutover/cutover/internal/procgroup"
)

// spawnEnv names the environment variable that carries a process's spawn mark.
const spawnEnv = "CUTOVER_SPAWN"

// newSpawnMark returns a mark no other process has had.
func newSpawnMark() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// spawned is a process found by its spawn mark.
type spawned struct {
	pid, pgid int
	start     uint64
}

// findSpawned lists the live processes whose environment carries mark: the one started with
// it (the leader of its process group) and any children it left.
func findSpawned(mark string) []spawned {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	needle := []byte("\x00" + spawnEnv + "=" + mark + "\x00")
	var out []spawned
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !bytes.Contains(append(append([]byte{0}, env...), 0), needle) {
			continue
		}
		state, start, err := procStat(pid)
		if err != nil || state == 'Z' || state == 'X' {
			continue
		}
		pgid, err := syscall.Getpgid(pid)
		if err != nil {
			continue
		}
		out = append(out, spawned{pid: pid, pgid: pgid, start: start})
	}
	return out
}

// resolveSpawn completes a record written before a fork whose pid was never recorded (the
// daemon died in between): the process started with its mark, when it runs, becomes the
// instance's process; processes of the mark that are not it (children its leader left) are
// killed with their group. It reports whether r changed.
func resolveSpawn(r *record) bool {
	if r.PID != 0 || r.Spawn == "" || r.Stopped {
		return false
	}
	found := findSpawned(r.Spawn)
	for _, p := range found {
		if p.pid == p.pgid {
			r.PID, r.PGID, r.StartTicks = p.pid, p.pid, p.start
		}
	}
	for _, p := range found {
		if p.pgid != r.PGID {
			_ = procgroup.Signal(p.pgid, syscall.SIGKILL)
		}
	}
	return r.PID != 0
}
