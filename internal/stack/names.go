package stack

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// RoutedPort is a routed service as the other containers of its stack call it: by its name, at
// the port it listens on inside its container, and the gateway of its first network (the
// host, where cutover's proxy is reached from that network).
type RoutedPort struct {
	Service string
	Port    int
	Gateway string
}

// Names is how the containers of a stack reach its routed services by name.
type Names struct {
	// Internal is, by service, the proxy address on its network's gateway that serves its
	// route to the stack's containers.
	Internal map[string]string
	// Hosts are the /etc/hosts entries of every container of the stack, "name:gateway".
	Hosts []string
	// Aliased are the routed services whose name stays an alias of their instances.
	Aliased  []string
	Warnings []string
}

// ProxyNames decides how names lead to routed services. A routed service whose container
// port no other routed service shares is served by cutover's proxy on gateway:port, and its
// name is a host entry pointing there in every container of the stack, instead of a network
// alias of its instances: a caller then reaches only instances the proxy routes to (ready,
// not draining), and keeps getting answers while the service is deployed. Two routed
// services on one port cannot share the gateway's: those keep their names as aliases of
// their instances, with a warning.
func ProxyNames(routed []RoutedPort) Names {
	n := Names{Internal: map[string]string{}}
	byPort := map[int][]string{}
	for _, r := range routed {
		byPort[r.Port] = append(byPort[r.Port], r.Service)
	}
	for _, r := range routed {
		if len(byPort[r.Port]) > 1 {
			n.Aliased = append(n.Aliased, r.Service)
			n.Warnings = append(n.Warnings, fmt.Sprintf("service %s: its name leads straight to its instances (draining ones too): "+
				"routed services %v all listen on port %d inside their containers, and the proxy can serve one of them by name on that port",
				r.Service, byPort[r.Port], r.Port))
			continue
		}
		n.Internal[r.Service] = net.JoinHostPort(r.Gateway, strconv.Itoa(r.Port))
		n.Hosts = append(n.Hosts, r.Service+":"+r.Gateway)
	}
	slices.Sort(n.Hosts)
	return n
}

// HostsFor is the host entries of the containers of service: all but its own name's.
func (n Names) HostsFor(service string) []string {
	var out []string
	for _, h := range n.Hosts {
		if !strings.HasPrefix(h, service+":") {
			out = append(out, h)
		}
	}
	return out
}
