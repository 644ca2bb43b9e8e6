package handoff

import (
	"fmt"
	"net"
	"os"
)

// NotifyEnv is where systemd (Type=notify) names its notification socket.
const NotifyEnv = "NOTIFY_SOCKET"

// Notify sends state (e.g. "READY=1" or "MAINPID=123") to the service manager's socket named
// by socket (the value of NotifyEnv), as sd_notify(3) does. An empty socket is a no-op: not
// run by systemd, or not as Type=notify.
func Notify(socket, state string) error {
	if socket == "" {
		return nil
	}
	addr := &net.UnixAddr{Name: socket, Net: "unixgram"}
	if socket[0] == '@' { // an abstract socket
		addr.Name = "\x00" + socket[1:]
	}
	c, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return fmt.Errorf("notify service manager: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify service manager: %w", err)
	}
	return nil
}

// NotifyReady tells the service manager at in.NotifySocket that this daemon serves, unless
// it replaced another one: the old daemon, still the service's main process, then hands
// the main pid over with NotifyMainPID (systemd accepts messages from the main process only,
// by default).
func (in *Inherited) NotifyReady() error {
	if in == nil || in.ready != nil {
		return nil
	}
	return Notify(in.NotifySocket, fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid()))
}

// NotifyMainPID tells the service manager that pid is the service's main process now.
func (in *Inherited) NotifyMainPID(pid int) error {
	if in == nil {
		return nil
	}
	return Notify(in.NotifySocket, fmt.Sprintf("MAINPID=%d", pid))
}
