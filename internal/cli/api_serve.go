package cli

import (
	"github.com/spf13/pflag"

	"github.com/cutover/cutover/internal/api"
)

// addAPIServeFlags adds serve's flags for the control API's TLS and limits to f.
func addAPIServeFlags(f *pflag.FlagSet, o *ServeOptions) {
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

// checkAPIServeFlags refuses bad values of those flags, naming the flag.
func checkAPIServeFlags(o ServeOptions) error {
	l := o.APILimits
	switch {
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
	return nil
}
