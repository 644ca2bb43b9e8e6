package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FD kinds, as the report names them.
const (
	fdClient   = "client conns"    // the load's connections to a proxy route: the client's pool, not the daemon's
	fdListener = "listeners"       // listening sockets
	fdOtherTCP = "other conns"     // to instances (probes, the proxy's pool) and to the API
	fdLog      = "instance logs"   // run/logs
	fdFile     = "other files"     // the state file, its WAL, the lock…
	fdOther    = "pipes and other" // pipes, epoll, eventfd
)

// fdKinds sorts pid's open file descriptors into the kinds above; a connection whose local
// port is one of routePorts is a client's.
func fdKinds(pid int, routePorts map[int]bool) (map[string]int, error) {
	links, err := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	if err != nil {
		return nil, err
	}
	socks := tcpSockets(pid)
	out := map[string]int{}
	for _, l := range links {
		target, err := os.Readlink(l)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(target, "socket:["):
			s, ok := socks[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")]
			switch {
			case !ok:
				out[fdOther]++
			case s.listening:
				out[fdListener]++
			case routePorts[s.localPort]:
				out[fdClient]++
			default:
				out[fdOtherTCP]++
			}
		case strings.Contains(target, "/run/logs/"):
			out[fdLog]++
		case strings.HasPrefix(target, "/"):
			out[fdFile]++
		default:
			out[fdOther]++
		}
	}
	return out, nil
}

type tcpSocket struct {
	localPort int
	listening bool
}

// tcpSockets maps socket inodes to what /proc/<pid>/net/tcp{,6} says of them.
func tcpSockets(pid int) map[string]tcpSocket {
	out := map[string]tcpSocket{}
	for _, name := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, name))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 {
				continue
			}
			_, port, _ := strings.Cut(f[1], ":")
			p, _ := strconv.ParseInt(port, 16, 32)
			out[f[9]] = tcpSocket{localPort: int(p), listening: f[3] == "0A"}
		}
	}
	return out
}

// ownFDs is every descriptor but the clients' connections, whose number follows the load's
// connection pool (idle connections kept 90s), not the daemon.
func ownFDs(kinds map[string]int) int {
	n := 0
	for k, v := range kinds {
		if k != fdClient {
			n += v
		}
	}
	return n
}
