package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/cutover/cutover/internal/certs"
)

// ACMEOptions configure automatic HTTPS for routes with route.tls.acme.
type ACMEOptions struct {
	// Directory is the ACME directory URL (default Let's Encrypt's).
	Directory string
	// Email is the account's contact address, optional.
	Email string
	// CAFile, when set, holds the PEM roots that the directory's own HTTPS certificate is
	// checked against (a private or test directory), instead of the system's.
	CAFile string
}

// newCerts returns the manager of the routes' ACME certificates, kept under StateDir/certs;
// each issuance and failure becomes an event of every service that serves the name.
func newCerts(opts Options, events eventLog) (*certs.Manager, error) {
	client := http.DefaultClient
	if f := opts.ACME.CAFile; f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("acme ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("acme ca file %s: no PEM certificate", f)
		}
		client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	return certs.New(opts.Logger, certs.Config{Directory: opts.ACME.Directory, Email: opts.ACME.Email,
		Dir: filepath.Join(opts.StateDir, "certs"), HTTPClient: client,
		Observe: func(ev certs.Event) { recordCertEvent(events, ev) }}), nil
}

func recordCertEvent(events eventLog, ev certs.Event) {
	typ, msg := "certificate_issued", fmt.Sprintf("certificate for %s issued, valid until %s", ev.Host, ev.NotAfter.UTC().Format(time.RFC3339))
	data := map[string]any{"host": ev.Host}
	switch {
	case ev.Err != nil:
		typ, msg = "certificate_failed", fmt.Sprintf("certificate for %s not issued (the route keeps the one it has): %v", ev.Host, ev.Err)
		data["error"] = ev.Err.Error()
	case ev.Renewal:
		typ = "certificate_renewed"
	}
	if ev.Err == nil {
		data["not_after"] = ev.NotAfter.UTC()
	}
	for _, svc := range ev.Services {
		events.Record(context.Background(), svc, 0, typ, msg, data)
	}
}

// certificatesHandler serves GET /v1/certificates: each managed name's expiry and last error.
func (d *Daemon) certificatesHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		st := d.certs.Status()
		if st == nil {
			st = []certs.Status{}
		}
		_ = json.NewEncoder(w).Encode(st)
	})
}
