package h1

import (
	"net"
	"syscall"
)

// peerGone reports whether the peer of c has closed or reset the connection, without reading
// from it or waiting: a peek that finds the end of the stream or an error. Bytes waiting to be
// read (a pipelined request) count as a peer still there.
func peerGone(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	var b [1]byte
	_ = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		gone = n == 0 && err == nil || err != nil && err != syscall.EAGAIN && err != syscall.EINTR
		return true
	})
	return gone
}
