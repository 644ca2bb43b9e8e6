package certs

import (
	"context"
	"crypto/tls"
	"time"
)

// Run issues and renews the managed names' certificates until ctx is done: at once for a
// name that has none or is due, then every Config.Check. Names are handled one at a time.
// It returns nil once ctx is done.
func (m *Manager) Run(ctx context.Context) error {
	tick := time.NewTicker(m.cfg.Check)
	defer tick.Stop()
	for {
		for _, host := range m.due(time.Now()) {
			if ctx.Err() != nil {
				return nil
			}
			m.issue(ctx, host)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-m.wake:
		}
	}
}

// due returns the wanted names that need a certificate now.
func (m *Manager) due(now time.Time) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for h, n := range m.names {
		if m.wanted(h) && now.After(n.retryAt) && needsCert(n.cert, now) {
			out = append(out, h)
		}
	}
	return out
}

// needsCert reports whether c must be replaced at now: missing, or two thirds of its
// lifetime gone (Let's Encrypt's 90 days: 30 days before expiry).
func needsCert(c *tls.Certificate, now time.Time) bool {
	if c == nil || c.Leaf == nil {
		return true
	}
	life := c.Leaf.NotAfter.Sub(c.Leaf.NotBefore)
	return !now.Before(c.Leaf.NotBefore.Add(life * 2 / 3))
}

// issue obtains host's certificate, stores it and serves it; on failure it keeps the old one,
// records the error and waits Config.Retry before the next attempt.
func (m *Manager) issue(ctx context.Context, host string) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	m.mu.Lock()
	renewal := m.names[host].cert != nil
	m.mu.Unlock()
	cert, err := m.obtain(ctx, host)
	if err == nil {
		err = save(m.cfg.Dir, host, cert)
	}
	now := time.Now()
	m.mu.Lock()
	n := m.names[host]
	ev := Event{Host: host, Services: m.servicesOf(host), Renewal: renewal, Err: err}
	if err != nil {
		n.failed, n.failAt, n.retryAt = err, now, now.Add(m.cfg.Retry)
	} else {
		n.cert, n.failed, n.failAt = cert, nil, time.Time{}
		ev.NotAfter = cert.Leaf.NotAfter
	}
	m.mu.Unlock()
	if err != nil {
		m.logger.Warn("certificate not issued", "host", host, "renewal", renewal, "error", err)
	} else {
		m.logger.Info("certificate issued", "host", host, "renewal", renewal, "not_after", ev.NotAfter)
	}
	if m.cfg.Observe != nil {
		m.cfg.Observe(ev)
	}
}
