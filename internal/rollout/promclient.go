package rollout

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/spec"
)

// promSource returns the source a Prometheus check asks: its client (shared when the check
// has no tls settings, its own otherwise) and its credentials, read from the service's env.
// An error (a credential missing from env, a CA or client certificate that cannot be read)
// names the field and the file or variable, never a credential; the check is then
// inconclusive with it as the reason at every run.
func promSource(p spec.PrometheusCheck, env map[string]string, shared *http.Client) (*analysis.PrometheusSource, error) {
	client := shared
	if p.TLS != nil {
		cfg, err := promTLS(*p.TLS)
		if err != nil {
			return nil, err
		}
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, Proxy: http.ProxyFromEnvironment,
			ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 4}}
	}
	token, password, err := spec.PrometheusCredentials(p.Auth, env)
	if err != nil {
		return nil, err
	}
	src := analysis.NewPrometheusSource(p.URL, client)
	if p.Auth != nil {
		src = src.WithAuth(analysis.PrometheusAuth{BearerToken: token, Username: p.Auth.Username, Password: password})
	}
	return src, nil
}

// promTLS builds a check's TLS configuration from its files.
func promTLS(t spec.PrometheusTLS) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate in it", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file, tls.key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
