package procstat

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCountsFromTheLastParenthesis(t *testing.T) {
	line := []byte("42 (a) b) (c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 0 0")
	cpu, err := parseStat(line)
	if err != nil || cpu != 3*time.Second {
		t.Fatalf("cpu %v (%v), want 3s (300 ticks)", cpu, err)
	}
	if _, err := parseStat([]byte("42 no name")); err == nil {
		t.Error("a line without a command name was accepted")
	}
}

// TestReadsThisProcess: a process that has burnt CPU and holds memory shows both.
func TestReadsThisProcess(t *testing.T) {
	buf := make([]byte, 32<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	deadline := time.Now().Add(300 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		buf[x%len(buf)]++
	}
	u, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.CPU <= 0 || u.Memory < 32<<20 {
		t.Errorf("usage %+v: want CPU time and at least 32 MiB resident", u)
	}
	if _, err := Read(0); err == nil {
		t.Error("pid 0 was read")
	}
}
