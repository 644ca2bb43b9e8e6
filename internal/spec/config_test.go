package spec

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const configBase = base + `config:
  - {name: DATABASE_URL, type: url, secret: true}
  - {name: NODE_ENV, type: enum, values: [development, production], default: production}
  - {name: WORKERS, type: int, default: "4"}
  - {name: DEBUG, type: bool, required: false}
  - {name: TIMEOUT, type: duration, required: true}
`

func TestParseConfigDeclarations(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want []wantErr
	}{
		{"valid", configBase, nil},
		{"unknown type", base + "config: [{name: A, type: float}]\n", []wantErr{{"config[0].type", 6, "must be one of string, int"}}},
		{"enum without values", base + "config: [{name: A, type: enum}]\n", []wantErr{{"config[0].values", 6, "exactly when type is enum"}}},
		{"values without enum", base + "config: [{name: A, values: [x]}]\n", []wantErr{{"config[0].values", 6, "exactly when type is enum"}}},
		{"bad name", base + "config: [{name: 1A}]\n", []wantErr{{"config[0].name", 6, "env name"}}},
		{"twice", base + "config: [{name: A}, {name: A}]\n", []wantErr{{"config[1].name", 6, "declared twice"}}},
		{"default of wrong type", base + "config: [{name: A, type: int, default: lots}]\n", []wantErr{{"config[0].default", 6, "integer"}}},
		{"secret with default", base + "config: [{name: A, secret: true, default: x}]\n", []wantErr{{"config[0].default", 6, "cutover secrets set"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "")
			var got []wantErr
			var errs Errors
			if errors.As(err, &errs) {
				for _, e := range errs {
					got = append(got, wantErr{e.Path, e.Line, e.Message})
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("errors of %s: got %v, want %v", tc.name, got, tc.want)
			}
			for i := range got {
				if got[i].path != tc.want[i].path || got[i].line != tc.want[i].line || !strings.Contains(got[i].msg, tc.want[i].msg) {
					t.Errorf("error %d of %s: got %v, want %v", i, tc.name, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestApplyConfig(t *testing.T) {
	const secret = "postgres://app:hunter2hunter2@db/app"
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string // "path: message fragment"
	}{
		{"all given", map[string]string{"DATABASE_URL": secret, "TIMEOUT": "5s", "DEBUG": "true", "NODE_ENV": "development"}, nil},
		{"required missing", map[string]string{"TIMEOUT": "5s"}, []string{"run.env.DATABASE_URL: required by config[0] (url)"}},
		{"malformed url", map[string]string{"DATABASE_URL": "hunter2hunter2", "TIMEOUT": "5s"}, []string{"run.env.DATABASE_URL: config[0] (url): must be an absolute URL"}},
		{"outside enum", map[string]string{"DATABASE_URL": secret, "TIMEOUT": "5s", "NODE_ENV": "prod"},
			[]string{"run.env.NODE_ENV: config[1] (one of development, production): must be one of"}},
		{"every problem at once", map[string]string{"DATABASE_URL": "x", "WORKERS": "four", "DEBUG": "maybe", "TIMEOUT": "5"}, []string{
			"run.env.DATABASE_URL: config[0] (url)", "run.env.WORKERS: config[2] (int): must be an integer",
			"run.env.DEBUG: config[3] (bool)", "run.env.TIMEOUT: config[4] (duration)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(configBase), "")
			if err != nil {
				t.Fatal(err)
			}
			s.Run.Env = tc.env
			errs := ApplyConfig(s)
			var got []string
			for _, e := range errs {
				if strings.Contains(e.Message, "hunter2") {
					t.Errorf("error of %s quotes the value: %s", tc.name, e.Message)
				}
				got = append(got, e.Path+": "+e.Message)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("errors of %s: got %q, want %q", tc.name, got, tc.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("error %d of %s: got %q, want %q", i, tc.name, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestApplyConfigDefaultsAndStrip(t *testing.T) {
	s, err := Parse([]byte(configBase), "")
	if err != nil {
		t.Fatal(err)
	}
	s.Run.Env = map[string]string{"DATABASE_URL": "postgres://db/app", "TIMEOUT": "1s", "NODE_ENV": "development"}
	if errs := ApplyConfig(s); errs != nil {
		t.Fatal(errs)
	}
	want := map[string]string{"DATABASE_URL": "postgres://db/app", "TIMEOUT": "1s", "NODE_ENV": "development", "WORKERS": "4"}
	if diff := cmp.Diff(s.Run.Env, want); diff != "" {
		t.Errorf("env after defaults (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(s.Run.Secrets, []string{"DATABASE_URL"}); diff != "" {
		t.Errorf("secrets after defaults (-got +want):\n%s", diff)
	}
	s.Run.SecretVersions = map[string]int{"DATABASE_URL": 2}
	StripProvided(&s.Run)
	want = map[string]string{"TIMEOUT": "1s", "NODE_ENV": "development"}
	if diff := cmp.Diff(s.Run.Env, want); diff != "" {
		t.Errorf("env after strip (-got +want):\n%s", diff)
	}
	if s.Run.Secrets != nil || s.Run.Defaulted != nil || s.Run.SecretVersions != nil {
		t.Errorf("strip left %v %v %v", s.Run.Secrets, s.Run.Defaulted, s.Run.SecretVersions)
	}
}
