package cli

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/flags"
)

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"10%", 10, true}, {"10", 10, true}, {"2.5%", 2.5, true}, {"0%", 0, true}, {"100%", 100, true},
		{"101%", 0, false}, {"-1", 0, false}, {"ten", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		got, err := parsePercent("--to", tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parsePercent(%q) = %v, %v; want %v, ok %t", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseVariants(t *testing.T) {
	tests := []struct {
		typ   flags.Type
		pairs []string
		want  map[string]any
		ok    bool
	}{
		{flags.Boolean, []string{"on=true", "off=false"}, map[string]any{"on": true, "off": false}, true},
		{flags.Number, []string{"low=0.5", "high=10"}, map[string]any{"low": 0.5, "high": 10.0}, true},
		{flags.String, []string{"blue=Blue sky", "eq=a=b"}, map[string]any{"blue": "Blue sky", "eq": "a=b"}, true},
		{flags.Object, []string{`cfg={"n":1}`}, map[string]any{"cfg": map[string]any{"n": 1.0}}, true},
		{flags.Boolean, []string{"on=yes please"}, nil, false},
		{flags.Object, []string{"cfg=[1]"}, nil, false},
		{flags.String, []string{"=x"}, nil, false},
		{flags.String, []string{"novalue"}, nil, false},
	}
	for _, tt := range tests {
		got, err := parseVariants(tt.typ, tt.pairs)
		if (err == nil) != tt.ok {
			t.Errorf("parseVariants(%s, %q): error %v, want ok %t", tt.typ, tt.pairs, err, tt.ok)
			continue
		}
		if diff := cmp.Diff(got, tt.want); diff != "" {
			t.Errorf("parseVariants(%s, %q) (-got +want):\n%s", tt.typ, tt.pairs, diff)
		}
	}
}

func TestChangeSummary(t *testing.T) {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	tests := []struct {
		name          string
		before, after string
		want          string
	}{
		{"created", "null", `{"enabled":true}`, "created"},
		{"deleted", `{"enabled":true}`, "null", "deleted"},
		{"scalar", `{"enabled":true,"key":"f"}`, `{"enabled":false,"key":"f"}`, "enabled: true → false"},
		{"added field", `{"key":"f"}`, `{"key":"f","description":"x"}`, `description: - → "x"`},
		{"large field", `{"rollout":{"variant":"on"}}`, `{"rollout":{"variant":"off"}}`, "rollout"},
		{"two fields", `{"a":1,"b":2}`, `{"a":2,"b":3}`, "a: 1 → 2; b: 2 → 3"},
	}
	for _, tt := range tests {
		if got := changeSummary(raw(tt.before), raw(tt.after)); got != tt.want {
			t.Errorf("%s: changeSummary = %q, want %q", tt.name, got, tt.want)
		}
	}
}
