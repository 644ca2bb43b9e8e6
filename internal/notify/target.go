// Package notify tells people how deployments go: it turns recorded events (deployment
// started, waiting, promoted, succeeded, failed, rolled back with its verdict, aborted; crash
// loops; daemon upgrades) into deliveries to notify targets — a generic webhook carrying a
// CloudEvents 1.0 JSON event signed with HMAC-SHA256, or a Slack-compatible incoming webhook —
// through an outbox in the state file: retried with backoff, in order per target, kept across
// a restart or kill -9, bounded per target, and never in a deployment's way (it runs on its
// own loop and only reads the events). Target URLs and secrets are never logged or shown:
// RedactURL keeps only the scheme and host.
package notify

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Kinds of target.
const (
	KindWebhook = "webhook" // CloudEvents 1.0 JSON, signed when a secret is set
	KindSlack   = "slack"   // Slack-compatible incoming webhook: text and blocks
)

// Target is one place notifications go.
type Target struct {
	// Name identifies the target in the outbox and in `cutover notify list`; a service's
	// targets are named "<service>/<name>".
	Name string `json:"name" yaml:"name"`
	Kind string `json:"type" yaml:"type"`
	// URL is a secret: it is never logged or shown whole.
	URL string `json:"url" yaml:"url"`
	// Secret signs a webhook's body (HMAC-SHA256, header X-Cutover-Signature-256).
	Secret string `json:"secret,omitempty" yaml:"secret,omitempty"`
	// Events limits the target to these event names (see Events); empty: all of them.
	Events []string `json:"events,omitempty" yaml:"events,omitempty"`
}

// Validate reports the first problem with t, naming the field under path.
func (t Target) Validate(path string) error {
	switch {
	case t.Name == "" || strings.ContainsAny(t.Name, "/ \t\n"):
		return fmt.Errorf("%s.name: want a name without spaces or slashes, got %q", path, t.Name)
	case t.Kind != KindWebhook && t.Kind != KindSlack:
		return fmt.Errorf("%s.type: want %s or %s, got %q", path, KindWebhook, KindSlack, t.Kind)
	case t.Secret != "" && t.Kind != KindWebhook:
		return fmt.Errorf("%s.secret: only a webhook is signed", path)
	}
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s.url: want an http or https URL (%s)", path, RedactURL(t.URL))
	}
	for i, e := range t.Events {
		if !slices.Contains(Events, e) {
			return fmt.Errorf("%s.events[%d]: %q is not one of %s", path, i, e, strings.Join(Events, ", "))
		}
	}
	return nil
}

// wants reports whether t takes the event named name.
func (t Target) wants(name string) bool {
	return len(t.Events) == 0 || slices.Contains(t.Events, name) || name == EventTest
}

// RedactURL returns u with only its scheme and host: "https://hooks.slack.com/…".
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "(a URL)"
	}
	return p.Scheme + "://" + p.Host + "/…"
}
