package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"golang.org/x/crypto/acme"
)

// alpnProto is TLS-ALPN-01's protocol name (RFC 8737).
const alpnProto = acme.ALPNProto

// obtain runs one ACME order for host: account, order, each authorization by TLS-ALPN-01
// (or HTTP-01 when the directory offers only that), finalization with a fresh P-256 key.
func (m *Manager) obtain(ctx context.Context, host string) (*tls.Certificate, error) {
	client, err := m.client(ctx)
	if err != nil {
		return nil, err
	}
	order, err := client.AuthorizeOrder(ctx, acme.DomainIDs(host))
	if err != nil {
		return nil, fmt.Errorf("order certificate for %s: %w", host, err)
	}
	for _, u := range order.AuthzURLs {
		if err := m.authorize(ctx, client, host, u); err != nil {
			return nil, err
		}
	}
	orderURI := order.URI
	if order, err = client.WaitOrder(ctx, orderURI); err != nil {
		return nil, fmt.Errorf("wait for order of %s: %w", host, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("create key for %s: %w", host, err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{host}}, key)
	if err != nil {
		return nil, fmt.Errorf("create request for %s: %w", host, err)
	}
	der, err := finalize(ctx, client, order.FinalizeURL, orderURI, csr)
	if err != nil {
		return nil, fmt.Errorf("finalize certificate for %s: %w", host, err)
	}
	leaf, err := x509.ParseCertificate(der[0])
	if err != nil {
		return nil, fmt.Errorf("parse certificate for %s: %w", host, err)
	}
	if err := leaf.VerifyHostname(host); err != nil {
		return nil, fmt.Errorf("certificate for %s: %w", host, err)
	}
	return &tls.Certificate{Certificate: der, PrivateKey: key, Leaf: leaf}, nil
}

// finalize sends the request and fetches the chain. A directory whose finalize answer is
// "processing" without the order's Location (Pebble's) leaves x/crypto without the URL to
// wait on, so the order is then waited on by the URL it had when created.
func finalize(ctx context.Context, c *acme.Client, finalizeURL, orderURI string, csr []byte) ([][]byte, error) {
	der, _, err := c.CreateOrderCert(ctx, finalizeURL, csr, true)
	if err == nil {
		return der, nil
	}
	o, werr := c.WaitOrder(ctx, orderURI)
	if werr != nil || o.Status != acme.StatusValid || o.CertURL == "" {
		return nil, err
	}
	return c.FetchCert(ctx, o.CertURL, true)
}

// client returns an ACME client with a registered account.
func (m *Manager) client(ctx context.Context) (*acme.Client, error) {
	key, err := accountKey(m.cfg.Dir)
	if err != nil {
		return nil, err
	}
	c := &acme.Client{Key: key, DirectoryURL: m.cfg.Directory, HTTPClient: m.cfg.HTTPClient, UserAgent: "cutover"}
	acct := &acme.Account{}
	if m.cfg.Email != "" {
		acct.Contact = []string{"mailto:" + m.cfg.Email}
	}
	if _, err := c.Register(ctx, acct, acme.AcceptTOS); err != nil && !errors.Is(err, acme.ErrAccountAlreadyExists) {
		return nil, fmt.Errorf("register acme account at %s: %w", m.cfg.Directory, err)
	}
	return c, nil
}

// authorize proves control of host for one authorization: the challenge's answer is
// published (TLS-ALPN-01 certificate or HTTP-01 token) while the directory validates.
func (m *Manager) authorize(ctx context.Context, c *acme.Client, host, url string) error {
	z, err := c.GetAuthorization(ctx, url)
	if err != nil {
		return fmt.Errorf("authorization for %s: %w", host, err)
	}
	if z.Status == acme.StatusValid {
		return nil
	}
	chal := pick(z.Challenges, m.cfg.Challenges)
	if chal == nil {
		return fmt.Errorf("authorization for %s: the directory offers none of %v", host, m.cfg.Challenges)
	}
	undo, err := m.publish(c, host, chal)
	if err != nil {
		return err
	}
	defer undo()
	if _, err := c.Accept(ctx, chal); err != nil {
		return fmt.Errorf("accept %s challenge for %s: %w", chal.Type, host, err)
	}
	if _, err := c.WaitAuthorization(ctx, z.URI); err != nil {
		return fmt.Errorf("%s challenge for %s: %w", chal.Type, host, err)
	}
	return nil
}

// pick returns the first challenge of the preferred types that the directory offers.
func pick(chals []*acme.Challenge, prefer []string) *acme.Challenge {
	for _, typ := range prefer {
		for _, c := range chals {
			if c.Type == typ {
				return c
			}
		}
	}
	return nil
}

// publish makes the challenge's answer visible and returns how to withdraw it.
func (m *Manager) publish(c *acme.Client, host string, chal *acme.Challenge) (func(), error) {
	switch chal.Type {
	case "tls-alpn-01":
		cert, err := c.TLSALPN01ChallengeCert(chal.Token, host)
		if err != nil {
			return nil, fmt.Errorf("tls-alpn-01 certificate for %s: %w", host, err)
		}
		m.mu.Lock()
		m.alpn[host] = &cert
		m.mu.Unlock()
		return func() { m.mu.Lock(); delete(m.alpn, host); m.mu.Unlock() }, nil
	default:
		auth, err := c.HTTP01ChallengeResponse(chal.Token)
		if err != nil {
			return nil, fmt.Errorf("http-01 answer for %s: %w", host, err)
		}
		path := c.HTTP01ChallengePath(chal.Token)
		m.mu.Lock()
		m.tokens[path] = auth
		m.mu.Unlock()
		return func() { m.mu.Lock(); delete(m.tokens, path); m.mu.Unlock() }, nil
	}
}
