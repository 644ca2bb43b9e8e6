package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cutover/cutover/internal/atomicfile"
)

// A name's file holds its private key then its chain, PEM, written whole (atomicfile), so a
// crash leaves the old pair or the new one.
func certPath(dir, host string) string { return filepath.Join(dir, host+".pem") }

// load reads host's stored certificate.
func load(dir, host string) (*tls.Certificate, error) {
	data, err := os.ReadFile(certPath(dir, host))
	if err != nil {
		return nil, fmt.Errorf("read certificate of %s: %w", host, err)
	}
	c, err := tls.X509KeyPair(data, data)
	if err != nil {
		return nil, fmt.Errorf("parse certificate of %s: %w", host, err)
	}
	return &c, nil
}

// save stores c (its Leaf set) for host.
func save(dir, host string, c *tls.Certificate) error {
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return fmt.Errorf("encode key of %s: %w", host, err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	for _, b := range c.Certificate {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b})...)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save certificate of %s: %w", host, err)
	}
	if err := atomicfile.Write(certPath(dir, host), out, 0o600); err != nil {
		return fmt.Errorf("save certificate of %s: %w", host, err)
	}
	return nil
}

// accountKey reads the ACME account key from dir, creating it on first use.
func accountKey(dir string) (crypto.Signer, error) {
	path := filepath.Join(dir, "account.key")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return newAccountKey(dir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read account key: %w", err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("read account key %s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read account key %s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("read account key %s: not a signing key", path)
	}
	return s, nil
}

func newAccountKey(dir, path string) (crypto.Signer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("create account key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("create account key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create account key: %w", err)
	}
	// Create, not Write: two daemons of a hand-off starting at once keep the first key.
	if err := atomicfile.Create(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		if errors.Is(err, os.ErrExist) {
			return accountKey(dir)
		}
		return nil, fmt.Errorf("create account key: %w", err)
	}
	return k, nil
}
