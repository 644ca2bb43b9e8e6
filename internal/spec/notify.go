package spec

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Notify is one place a service's deployment events are sent (see internal/notify): a
// "webhook" (CloudEvents 1.0 JSON, signed with HMAC-SHA256 when Secret is set) or a "slack"
// incoming webhook. URL and Secret are secrets: never shown whole.
type Notify struct {
	Name   string   `yaml:"name" json:"name"`
	Type   string   `yaml:"type" json:"type"`
	URL    string   `yaml:"url" json:"url"`
	Secret string   `yaml:"secret" json:"secret,omitempty"`
	Events []string `yaml:"events" json:"events,omitempty"`
}

// NotifyEvents are the event names a notify target may choose (internal/notify's Events).
var NotifyEvents = []string{"deployment.started", "deployment.waiting", "deployment.promoted", "deployment.succeeded",
	"deployment.failed", "deployment.rolled_back", "deployment.aborted", "instance.crash_loop", "daemon.upgraded", "notify.test"}

func validateNotify(errs *Errors, list []Notify) {
	seen := map[string]bool{}
	for i, n := range list {
		p := fmt.Sprintf("notify[%d]", i)
		switch {
		case n.Name == "" || strings.ContainsAny(n.Name, "/ \t\n"):
			errs.add(p+".name", "required, without spaces or slashes")
		case seen[n.Name]:
			errs.add(p+".name", "%q is used twice", n.Name)
		}
		seen[n.Name] = true
		if n.Type != "webhook" && n.Type != "slack" {
			errs.add(p+".type", "must be webhook or slack")
		}
		if u, err := url.Parse(n.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs.add(p+".url", "must be an http or https URL")
		}
		if n.Secret != "" && n.Type != "webhook" {
			errs.add(p+".secret", "only a webhook is signed")
		}
		for j, e := range n.Events {
			if !slices.Contains(NotifyEvents, e) {
				errs.add(fmt.Sprintf("%s.events[%d]", p, j), "must be one of %s", strings.Join(NotifyEvents, ", "))
			}
		}
	}
}
