package cli

import (
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Defaults of the proxy's server-wide limits, as `cutover serve --help` shows them.
const (
	defaultProxyReadHeaderTimeout = 10 * time.Second
	defaultProxyIdleTimeout       = 2 * time.Minute
	defaultProxyMaxHeaderBytes    = 64 << 10
	defaultACMEDirectory          = "https://acme-v02.api.letsencrypt.org/directory"
)

// proxyServeFlags are serve's flags for the proxy, before checking.
type proxyServeFlags struct {
	trusted []string
}

// addProxyServeFlags adds serve's flags for the proxy's client-side limits and trusted
// proxies to f. Per-route limits (body size, concurrency) are in the spec's route.
func addProxyServeFlags(f *pflag.FlagSet, o *ServeOptions, pf *proxyServeFlags) {
	f.DurationVar(&o.ProxyReadHeaderTimeout, "read-header-timeout", defaultProxyReadHeaderTimeout,
		"proxy: time a client has to send a request's headers (slow clients are cut off)")
	f.DurationVar(&o.ProxyIdleTimeout, "idle-timeout", defaultProxyIdleTimeout,
		"proxy: close a client's keep-alive connection idle this long")
	f.IntVar(&o.ProxyMaxHeaderBytes, "max-header-bytes", defaultProxyMaxHeaderBytes,
		"proxy: largest request header block (beyond: 431)")
	f.BoolVar(&o.ProxyStdHTTP1, "std-http1", false,
		"proxy: serve plain HTTP/1.1 with Go's net/http alone rather than the proxy's own loop (which hands everything but plain requests to net/http anyway)")
	f.StringVar(&o.ACMEDirectory, "acme-directory", defaultACMEDirectory,
		"proxy: the ACME directory that routes with tls.acme get their certificates from")
	f.StringVar(&o.ACMEEmail, "acme-email", "", "proxy: the ACME account's contact address (optional)")
	f.StringVar(&o.ACMECA, "acme-ca", "", "proxy: PEM roots to trust for the ACME directory's own HTTPS (a private or test directory)")
	f.StringArrayVar(&pf.trusted, "trusted-proxy", nil,
		"proxy: a client network (CIDR, or one IP) whose X-Forwarded-For/-Proto/-Host are kept and whose Forwarded, X-Real-IP, True-Client-IP, X-Forwarded-Port/-Prefix… reach the app; repeatable (default none: the first are overwritten, the others removed)")
}

// checkProxyServeFlags refuses bad values of those flags, naming the flag, and sets
// o.TrustedProxies.
func checkProxyServeFlags(o *ServeOptions, pf proxyServeFlags) error {
	switch {
	case o.ProxyReadHeaderTimeout <= 0:
		return usagef("--read-header-timeout %s: want a duration above 0", o.ProxyReadHeaderTimeout)
	case o.ProxyIdleTimeout <= 0:
		return usagef("--idle-timeout %s: want a duration above 0", o.ProxyIdleTimeout)
	case o.ProxyMaxHeaderBytes < 1024:
		return usagef("--max-header-bytes %d: want 1024 or more", o.ProxyMaxHeaderBytes)
	case !strings.HasPrefix(o.ACMEDirectory, "https://"):
		return usagef("--acme-directory %q: want an https:// URL", o.ACMEDirectory)
	}
	o.TrustedProxies = nil
	for _, s := range pf.trusted {
		pfx, err := parseTrusted(s)
		if err != nil {
			return usagef("--trusted-proxy %q: want a network like 10.0.0.0/8 or an IP address", s)
		}
		o.TrustedProxies = append(o.TrustedProxies, pfx)
	}
	return nil
}

func parseTrusted(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}
