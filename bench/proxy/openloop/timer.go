package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// clock pairs a CLOCK_MONOTONIC reading with time.Now taken right after it, so that a time
// scheduled as an offset from start can be armed on a timerfd and measured with time.Since.
type clock struct {
	monoNS int64
	start  time.Time
}

func newClock() (clock, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return clock{}, fmt.Errorf("clock_gettime: %w", err)
	}
	return clock{monoNS: ts.Nano(), start: time.Now()}, nil
}

// timer wakes one goroutine at an absolute CLOCK_MONOTONIC time. It is a timerfd read
// through the runtime's netpoller: epoll reports it when it expires, with no millisecond
// rounding of the wait and no extra thread.
type timer struct {
	fd  int
	f   *os.File
	buf [8]byte
}

func newTimer() (*timer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("timerfd_create: %w", err)
	}
	return &timer{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}, nil
}

// waitUntil blocks until offset after c's start, or returns at once if that has passed.
func (t *timer) waitUntil(c clock, offset time.Duration) error {
	if time.Since(c.start) >= offset {
		return nil
	}
	its := unix.ItimerSpec{Value: unix.NsecToTimespec(c.monoNS + int64(offset))}
	if err := unix.TimerfdSettime(t.fd, unix.TFD_TIMER_ABSTIME, &its, nil); err != nil {
		return fmt.Errorf("timerfd_settime: %w", err)
	}
	if _, err := t.f.Read(t.buf[:]); err != nil {
		return fmt.Errorf("read timerfd: %w", err)
	}
	return nil
}

func (t *timer) close() { t.f.Close() }
