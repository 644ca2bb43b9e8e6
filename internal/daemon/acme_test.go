package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/certs/pebbletest"
	"github.com/cutover/cutover/internal/testbin"
)

// A service deployed with route.tls.acme is served over HTTPS with a certificate a real ACME
// server (Pebble) issued at deploy; after a kill -9, with the directory gone, the restarted
// daemon serves the same certificate from its state directory.
func TestACMECertificateSurvivesKill9(t *testing.T) {
	pb := pebbletest.New(t)
	h := &harness{t: t, app: testbin.Demoapp(t)}
	listen := freeAddr(t)
	_, port, _ := strings.Cut(listen, ":")
	pb.Start(t, pebbletest.Options{TLSPort: pebbletest.Port(t, listen), HTTPPort: pebbletest.Port(t, freeAddr(t))})
	roots := pb.Roots(t)
	state := t.TempDir()
	flags := []string{"--acme-directory", pb.Directory, "--acme-ca", pb.CAFile()}
	p := startServe(t, state, flags...)
	spec := strings.Replace(h.yaml(appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1}),
		"  drain_timeout: 5s\n", "  drain_timeout: 5s\n  hosts: [localhost]\n  tls: {acme: true, hsts: 1h}\n", 1)
	dep, err := p.client.Deploy(context.Background(), api.DeployRequest{Service: "web", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	waitDeployment(t, p.client, dep.ID, "succeeded")

	url := "https://localhost:" + port + "/"
	var first *big.Int
	waitFor(t, time.Minute, "https with the issued certificate", func() bool {
		first = serialAt(t, url, roots)
		return first != nil
	})
	if _, err := os.Stat(filepath.Join(state, "certs", "localhost.pem")); err != nil {
		t.Fatalf("certificate not in the state directory: %v", err)
	}

	pb.Stop()
	_ = p.cmd.Process.Signal(os.Kill)
	_ = p.cmd.Wait()
	startServe(t, state, flags...)
	var again *big.Int
	waitFor(t, time.Minute, "https after kill -9", func() bool {
		again = serialAt(t, url, roots)
		return again != nil
	})
	if again.Cmp(first) != 0 {
		t.Fatalf("after kill -9 the route served serial %v, want the stored %v", again, first)
	}
}

// serialAt returns the serial of the certificate a verifying client got with a 200 from url,
// nil if the request failed.
func serialAt(t *testing.T, url string, roots *x509.CertPool) *big.Int {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}}}
	resp, err := c.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") == "" {
		return nil
	}
	return resp.TLS.PeerCertificates[0].SerialNumber
}
