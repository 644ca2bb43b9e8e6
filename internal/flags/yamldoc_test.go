package flags

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const goodYAML = `segments:
  - name: internal-users
    conditions:
      - {attribute: email, op: ends_with, value: "@example.com"}
flags:
  - key: new-checkout
    description: the new checkout page
    type: boolean
    variants: {on: true, off: false}
    default_variant: off
    enabled: true
    rules:
      - name: staff
        segments: [internal-users]
        variant: on
      - name: beta
        conditions:
          - {attribute: plan, op: one_of, value: [beta, pro]}
          - {attribute: appVersion, op: semver_ge, value: 1.4.0}
        split: [{variant: on, weight: 1}, {variant: off, weight: 3}]
        split_total: 4
    rollout:
      variant: on
      steps:
        - {at: 2026-07-01T09:00:00Z, percent: 10}
        - {at: 2026-07-02T09:00:00Z, percent: 50.5}
  - key: banner
    type: object
    variants:
      blue: {color: blue, size: 3}
      red: {color: red, size: 4.5}
    default_variant: blue
    enabled: false
  - key: retries
    type: number
    variants: {low: 1, high: 5}
    default_variant: low
    enabled: true
`

func TestParseDocument(t *testing.T) {
	doc, err := ParseDocument([]byte(goodYAML), nil)
	if err != nil {
		t.Fatalf("ParseDocument: %v", err)
	}
	nc := doc.Flags[0]
	want := Flag{
		Key: "new-checkout", Description: "the new checkout page", Type: Boolean,
		Variants: map[string]any{"on": true, "off": false}, DefaultVariant: "off", Enabled: true,
		Rules: []Rule{
			{Name: "staff", Segments: []string{"internal-users"}, Variant: "on"},
			{Name: "beta", Conditions: []Condition{
				{Attribute: "plan", Op: OpOneOf, Value: []any{"beta", "pro"}},
				{Attribute: "appVersion", Op: OpSemverGE, Value: "1.4.0"},
			}, Split: []Weight{{"on", 1}, {"off", 3}}, SplitTotal: 4},
		},
		Rollout: &Rollout{Variant: "on", Steps: []Step{
			{At: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC), Percent: 10},
			{At: time.Date(2026, 7, 2, 9, 0, 0, 0, time.UTC), Percent: 50.5},
		}},
	}
	if diff := cmp.Diff(nc, want); diff != "" {
		t.Errorf("new-checkout (-got +want):\n%s", diff)
	}
	if got := doc.Flags[1].Variants["red"]; !cmp.Equal(got, map[string]any{"color": "red", "size": 4.5}) {
		t.Errorf("banner red = %#v", got)
	}
	if got := doc.Flags[2].Variants["high"]; got != 5.0 {
		t.Errorf("retries high = %#v, want float64 5", got)
	}
}

func TestParseDocumentErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // each a substring of one error, in order
	}{
		{"unknown fields, all of them", `flags:
  - key: a
    type: boolean
    colour: red
    variants: {on: true}
    default_variant: on
    rules:
      - variant: on
        when: always
`, []string{`4:5: flags[0].colour: unknown field "colour"`, `9:9: flags[0].rules[0].when: unknown field "when"`}},
		{"unknown top-level field", "flagz: []\n", []string{`1:1: flagz: unknown field "flagz"`}},
		{"weights not summing", `flags:
  - key: a
    type: string
    variants: {x: "1", y: "2"}
    default_variant: x
    rules:
      - split: [{variant: x, weight: 60}, {variant: y, weight: 30}]
      - split: [{variant: x, weight: 600}, {variant: y, weight: 300}]
        split_total: 1000
`, []string{"7:9: flags[0].rules[0].split: weights sum to 90, want 100", "8:9: flags[0].rules[1].split: weights sum to 900, want 1000"}},
		{"semantic problems everywhere", `segments:
  - name: s
    conditions: [{attribute: v, op: semver_gt, value: banana}]
flags:
  - key: "bad key!"
    type: colour
    variants: {a: 1}
    default_variant: b
    rules:
      - segments: [nope]
        conditions: [{attribute: x, op: like, value: 1}]
        variant: a
  - key: dup
    type: number
    variants: {a: 1}
    default_variant: a
  - key: dup
    type: number
    variants: {a: "one"}
    default_variant: a
`, []string{"3:", "semver_gt needs a semantic version", `5:5: flags[0].key: "bad key!" is not a flag key`,
			`6:5: flags[0].type: "colour" is not one of`, "8:5: flags[0].default_variant: variant \"b\" is not defined",
			`10:20: flags[0].rules[0].segments[0]: segment "nope" is not defined`, `unknown operator "like"`,
			`17:5: flags[2].key: flag "dup" is defined twice`, `19:16: flags[2].variants.a: value one is not a number`}},
		{"syntax error", "flags: [\n  - key: a\n", []string{"1:8: malformed YAML: sequence end token ']' not found"}},
		{"wrong type", "flags:\n  - key: a\n    enabled: maybe\n", []string{"3:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseDocument([]byte(c.yaml), nil)
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseDocument = %v, want a *ValidationError", err)
			}
			text := err.Error()
			last := 0
			for _, w := range c.want {
				i := strings.Index(text[last:], w)
				if i < 0 {
					t.Fatalf("error lacks %q (in order):\n%s", w, text)
				}
				last += i + len(w)
			}
		})
	}
}

func TestImportAllOrNothing(t *testing.T) {
	ctx := context.Background()
	m := NewManager(&MemStore{}, slog.New(slog.DiscardHandler), ManagerOptions{})
	bad := goodYAML + "    typo: 1\n"
	_, err := m.Import(ctx, "alice", []byte(bad), ImportOptions{})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `unknown field "typo"`) {
		t.Fatalf("Import(bad) = %v, want unknown field typo", err)
	}
	if fs, _ := m.Flags(); len(fs) != 0 || len(m.Segments()) != 0 {
		t.Fatalf("after a failed import: %d flags, %d segments, want none", len(fs), len(m.Segments()))
	}
	if h, _ := m.History(ctx, HistoryQuery{}); len(h) != 0 {
		t.Fatalf("after a failed import: %d audit records, want none", len(h))
	}
	res, err := m.Import(ctx, "alice", []byte(goodYAML), ImportOptions{})
	if err != nil {
		t.Fatalf("Import(good): %v", err)
	}
	if len(res.Changes) != 4 {
		t.Errorf("Import(good) made %d changes, want 4 (1 segment, 3 flags)", len(res.Changes))
	}
	// Export, then import the export: nothing changes.
	out, err := m.Export()
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	res, err = m.Import(ctx, "bob", out, ImportOptions{})
	if err != nil || len(res.Changes) != 0 {
		t.Fatalf("re-import of the export: %d changes, err %v, want none\n%s", len(res.Changes), err, out)
	}
	// Prune with a file holding one flag removes the rest.
	one := "flags:\n  - {key: solo, type: string, variants: {a: x}, default_variant: a}\n"
	res, err = m.Import(ctx, "bob", []byte(one), ImportOptions{Prune: true})
	if err != nil {
		t.Fatalf("Import(prune): %v", err)
	}
	if fs, _ := m.Flags(); len(fs) != 1 || fs[0].Key != "solo" || len(m.Segments()) != 0 {
		t.Errorf("after prune: flags %v, segments %v; want just solo", fs, m.Segments())
	}
	if len(res.Changes) != 5 {
		t.Errorf("prune made %d changes, want 5 (1 create, 3 flag and 1 segment deletes)", len(res.Changes))
	}
}
