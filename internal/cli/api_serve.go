package cli

import (
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/spf13/pflag"

	"github.com/cutover/cutover/internal/api"
)

// apiServeFlags are serve's flags that only the CLI reads.
type apiServeFlags struct {
	// insecureListen accepts serving the plain-HTTP API on an address that is not loopback.
	insecureListen bool
}

// addAPIServeFlags adds serve's flags for the control API's TLS and limits to f.
func addAPIServeFlags(f *pflag.FlagSet, o *ServeOptions, af *apiServeFlags) {
	f.BoolVar(&af.insecureListen, "insecure-listen", false,
		"serve the control API over plain HTTP on a --listen address that is not loopback (its bearer token then crosses the network in clear)")
	f.StringVar(&o.APITLSCert, "api-tls-cert", "", "serve the control API over HTTPS with this certificate (PEM; needs --api-tls-key)")
	f.StringVar(&o.APITLSKey, "api-tls-key", "", "the private key of --api-tls-cert (PEM)")
	f.DurationVar(&o.APILimits.ReadHeaderTimeout, "api-read-header-timeout", api.DefaultReadHeaderTimeout,
		"control API: time allowed to read a request's headers")
	f.DurationVar(&o.APILimits.IdleTimeout, "api-idle-timeout", api.DefaultIdleTimeout,
		"control API: close a keep-alive connection idle this long")
	f.IntVar(&o.APILimits.MaxHeaderBytes, "api-max-header-bytes", api.DefaultMaxHeaderBytes,
		"control API: largest request header block (beyond: 431)")
	f.Int64Var(&o.APILimits.MaxBodyBytes, "api-max-body-bytes", api.MaxBodyBytes,
		"control API: largest request body, at most 1 MiB (beyond: 413)")
}

// checkAPIServeFlags refuses bad values of those flags, naming the flag. A plain-HTTP API
// on an address that is not loopback is refused unless af.insecureListen, and then warned
// about on stderr: anyone on the path would read the token.
func checkAPIServeFlags(o ServeOptions, af apiServeFlags, stderr io.Writer) error {
	l := o.APILimits
	plainOffLoopback := o.APITLSCert == "" && !loopback(o.Listen)
	switch {
	case plainOffLoopback && !af.insecureListen:
		return usagef("--listen %s is not a loopback address: the control API and its bearer token would be served "+
			"in plain HTTP to the network; give --api-tls-cert and --api-tls-key, or --insecure-listen to accept that", o.Listen)
	case (o.APITLSCert == "") != (o.APITLSKey == ""):
		return usagef("--api-tls-cert and --api-tls-key: give both or neither")
	case l.ReadHeaderTimeout <= 0:
		return usagef("--api-read-header-timeout %s: want a duration above 0", l.ReadHeaderTimeout)
	case l.IdleTimeout <= 0:
		return usagef("--api-idle-timeout %s: want a duration above 0", l.IdleTimeout)
	case l.MaxHeaderBytes < 1024:
		return usagef("--api-max-header-bytes %d: want 1024 or more", l.MaxHeaderBytes)
	case l.MaxBodyBytes < 1024 || l.MaxBodyBytes > api.MaxBodyBytes:
		return usagef("--api-max-body-bytes %d: want 1024 to %d", l.MaxBodyBytes, api.MaxBodyBytes)
	}
	if plainOffLoopback {
		fmt.Fprintf(stderr, "warning: --insecure-listen: the control API on %s is plain HTTP off loopback; "+
			"its bearer token crosses the network in clear\n", o.Listen)
	}
	return nil
}

// loopback reports whether the listen address addr (host:port) is on a loopback interface
// only: an IP in 127.0.0.0/8 or ::1, or localhost. An empty host, an unspecified address or
// any other name is not.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
