package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/api"
)

// SignatureHeader carries a webhook body's HMAC-SHA256 under the target's secret, as
// "sha256=<hex>" (GitHub's X-Hub-Signature-256 scheme): a receiver computes the same over the
// raw body and compares in constant time.
const SignatureHeader = "X-Cutover-Signature-256"

// Sign returns the SignatureHeader value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Message is what a notification says: the event, and the deployment it is about (if any).
type Message struct {
	Name       string          `json:"event"`
	Event      api.Event       `json:"recorded"`
	Deployment *api.Deployment `json:"deployment,omitempty"`
	// Host names the daemon's machine in a CloudEvent's source.
	Host string `json:"-"`
}

// cloudEvent is a CloudEvents 1.0 event in structured JSON mode.
type cloudEvent struct {
	SpecVersion     string  `json:"specversion"`
	ID              string  `json:"id"`
	Source          string  `json:"source"`
	Type            string  `json:"type"`
	Subject         string  `json:"subject,omitempty"`
	Time            string  `json:"time"`
	DataContentType string  `json:"datacontenttype"`
	Data            Message `json:"data"`
}

// CloudEvent renders m as a CloudEvents 1.0 JSON event: id the recorded event's, type
// "dev.cutover.<name>", subject the service.
func CloudEvent(m Message) ([]byte, error) {
	return json.Marshal(cloudEvent{SpecVersion: "1.0", ID: strconv.FormatInt(m.Event.ID, 10),
		Source: "cutover://" + m.Host, Type: "dev.cutover." + m.Name, Subject: m.Event.Service,
		Time: m.Event.Time.UTC().Format(time.RFC3339Nano), DataContentType: "application/json", Data: m})
}

// Slack renders m as a Slack incoming-webhook message: a text (for notifications and
// clients without blocks) and the same in blocks, with the verdict when there is one.
func Slack(m Message) ([]byte, error) {
	text := Summary(m)
	type txt struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	blocks := []map[string]any{{"type": "section", "text": txt{"mrkdwn", text}}}
	if d := m.Deployment; d != nil && d.Verdict != nil {
		blocks = append(blocks, map[string]any{"type": "section", "text": txt{"mrkdwn", "*Verdict* " + verdictLine(d.Verdict)}})
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []txt{{"mrkdwn",
		fmt.Sprintf("%s · %s · cutover on %s", m.Name, m.Event.Time.UTC().Format(time.RFC3339), m.Host)}}})
	return json.Marshal(map[string]any{"text": text, "blocks": blocks})
}

// Summary is one line for people: "web: deployment #12 (revision 3 → 4) rolled back: <why>".
func Summary(m Message) string {
	var b strings.Builder
	if m.Event.Service != "" {
		fmt.Fprintf(&b, "*%s*: ", m.Event.Service)
	}
	if d := m.Deployment; d != nil {
		fmt.Fprintf(&b, "deployment #%d (revision %d → %d, %s) %s", d.ID, d.From, d.To, d.Strategy,
			strings.TrimPrefix(strings.ReplaceAll(m.Name, "_", " "), "deployment."))
		if m.Event.Message != "" {
			b.WriteString(": " + m.Event.Message)
		}
		return b.String()
	}
	b.WriteString(m.Event.Message)
	return b.String()
}

// verdictLine is the verdict as analysis.Describe words it (what was compared, over how many
// requests, the rule and the figures), or its fields plainly when the daemon sent no summary.
func verdictLine(v *api.Verdict) string {
	if v.Summary != "" {
		return v.Summary
	}
	s := v.Outcome
	if v.Rule != "" {
		s += " (rule " + v.Rule + ")"
	}
	return s + ": " + v.Reason
}
