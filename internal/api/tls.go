package api

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// ServerTLS loads the API server's certificate and key from PEM files. Both empty: nil (plain
// HTTP). One without the other, or a file that does not load, is an error naming the flag.
func ServerTLS(certFile, keyFile string) (*tls.Config, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case certFile == "":
		return nil, errors.New("--api-tls-cert: missing; --api-tls-key needs it")
	case keyFile == "":
		return nil, errors.New("--api-tls-key: missing; --api-tls-cert needs it")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--api-tls-cert %s, --api-tls-key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// NewClientCA is NewClient for an API served over HTTPS with a certificate that caFile (PEM,
// one or more certificates) vouches for, instead of the system's roots. An empty caFile is
// NewClient.
func NewClientCA(baseURL, token, caFile string) (*Client, error) {
	c := NewClient(baseURL, token)
	if caFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	c.hc = &http.Client{Transport: tr}
	return c, nil
}
