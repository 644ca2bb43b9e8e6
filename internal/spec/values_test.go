package spec

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"
)

func TestDurationJSON(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Duration
		wantErr string
	}{
		{`"30s"`, sec(30), ""},
		{`"1m30s"`, sec(90), ""},
		{`"0s"`, 0, ""},
		{`30`, 0, "must be a string"},
		{`"30"`, 0, "no unit"},
		{`"soon"`, 0, "invalid duration"},
	} {
		var d Duration
		err := json.Unmarshal([]byte(tc.in), &d)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Unmarshal(%s) error = %v, want containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || d != tc.want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", tc.in, d, err, tc.want)
		}
		out, _ := json.Marshal(d)
		if string(out) != tc.in {
			t.Errorf("Marshal(%v) = %s, want %s", d, out, tc.in)
		}
	}
}

func TestIntOrPercentJSON(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    IntOrPercent
		wantErr string
	}{
		{`2`, IntOrPercent{Value: 2}, ""},
		{`"25%"`, IntOrPercent{Value: 25, Percent: true}, ""},
		{`0`, IntOrPercent{}, ""},
		{`"2"`, IntOrPercent{}, "percentage"},
		{`"x%"`, IntOrPercent{}, "invalid count or percentage"},
		{`true`, IntOrPercent{}, "integer or a percentage"},
	} {
		var p IntOrPercent
		err := json.Unmarshal([]byte(tc.in), &p)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Unmarshal(%s) error = %v, want containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || p != tc.want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", tc.in, p, err, tc.want)
		}
		out, _ := json.Marshal(p)
		if string(out) != tc.in {
			t.Errorf("Marshal(%v) = %s, want %s", p, out, tc.in)
		}
	}
}

// The goccy decoder and encoder use the same rules as Parse and Marshal.
func TestValuesThroughGoccyYAML(t *testing.T) {
	var v struct {
		D Duration     `yaml:"d"`
		P IntOrPercent `yaml:"p"`
		Q IntOrPercent `yaml:"q"`
	}
	if err := yaml.Unmarshal([]byte("d: 1m30s\np: 25%\nq: 3\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.D != sec(90) || v.P != (IntOrPercent{25, true}) || v.Q != (IntOrPercent{Value: 3}) {
		t.Errorf("yaml.Unmarshal = %+v", v)
	}
	out, err := yaml.Marshal(v)
	if err != nil || string(out) != "d: 1m30s\np: 25%\nq: 3\n" {
		t.Errorf("yaml.Marshal = %q, %v", out, err)
	}
	if err := yaml.Unmarshal([]byte("d: 30\n"), &v); err == nil || !strings.Contains(err.Error(), "no unit") {
		t.Errorf("yaml.Unmarshal(d: 30) error = %v, want \"no unit\"", err)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, file := range []string{"full.yaml", "minimal.yaml", "bluegreen.yaml", "canary.yaml"} {
		s := mustParse(t, readTestdata(t, file))
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("%s: Marshal: %v", file, err)
		}
		var back Service
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: Unmarshal(%s): %v", file, b, err)
		}
		if diff := cmp.Diff(s, &back); diff != "" {
			t.Errorf("%s: JSON round trip (-parsed +back):\n%s", file, diff)
		}
		b2, _ := json.Marshal(&back)
		if string(b) != string(b2) {
			t.Errorf("%s: JSON encoding not stable:\n%s\n%s", file, b, b2)
		}
	}
	s := mustParse(t, readTestdata(t, "full.yaml"))
	b, _ := json.Marshal(s)
	for _, want := range []string{`"type":"rolling"`, `"max_surge":1`, `"max_unavailable":"10%"`, `"drain_timeout":"1m0s"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, file := range []string{"full.yaml", "minimal.yaml", "bluegreen.yaml", "canary.yaml"} {
		s := mustParse(t, readTestdata(t, file))
		out, err := Marshal(s)
		if err != nil {
			t.Fatalf("%s: Marshal: %v", file, err)
		}
		back, err := Parse(out, "marshalled.yaml")
		if err != nil {
			t.Fatalf("%s: Parse(Marshal) = %v\n%s", file, err, out)
		}
		if diff := cmp.Diff(s, back); diff != "" {
			t.Errorf("%s: YAML round trip (-parsed +back):\n%s\n%s", file, diff, out)
		}
	}
}

func TestMarshalQuotesAmbiguousStrings(t *testing.T) {
	s := mustParse(t, []byte(base))
	s.Run.Args = []string{"8080", "true", "null", "1e3", ".inf", "? x", "a: b", "- x", "#c", "", "multi\nline"}
	s.Run.Env = map[string]string{"A": "~", "B": "0x1F", "C": "yes"}
	out, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out, "")
	if err != nil {
		t.Fatalf("Parse(Marshal) = %v\n%s", err, out)
	}
	if diff := cmp.Diff(s.Run, back.Run); diff != "" {
		t.Errorf("run round trip (-want +got):\n%s\n%s", diff, out)
	}
}
